d = {"a": [1, 2], "b": [3]}
print([k + str(v) for k, vs in d.items() for v in vs])
print([x for x in print("side") or [1, 2]])
print([c for c in f"{'xy'}{len(d)}" if c != "y"], [w for w in "a b".split(" ")])
print({k: v * 2 for k, v in zip("ab", [n * 3 for n in range(2)])})
print([y for y in (lambda: [1, 2])()], [s for s in "%s-%s" % ("p", "q")])
print([z for z in [1, 2] * 2], [q for q in "ab" + "cd"], [p for p in range(2) if (p2 := p * 2) >= 0], p2)
print(sum(x for x in (i * i for i in range(5))), list({x for x in range(3)} | {9}))
result = [len(d), [v for vs in d.values() for v in vs]]
