names = ["a", "b", "c"]
ages = [30, 20, 10]
print([f"{i}:{n}" for i, n in enumerate(names, 1)])
print({n: a for n, a in zip(names, ages)})
print([n * a for n, a in zip(names, [1, 2, 3])])
result = [(i, n) for i, n in enumerate(names) if i != 1]
