pairs = [(1, "b"), (3, "a"), (2, "c")]
print(sorted(pairs, key=lambda p: p[1]))
print(sorted(pairs, key=lambda p: -p[0]))
print(sorted(["bb", "a", "ccc"], key=lambda s: len(s), reverse=True))
result = sorted(range(-3, 4), key=lambda x: (x * x, x))
