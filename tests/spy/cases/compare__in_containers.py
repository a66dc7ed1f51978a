print(3 in [1, 2, 3], 3 in (1, 2), "a" in {"a": 1}, 1 in {"a": 1}, 2 in {1, 2}, "ab" in "cab")
print(3 not in [1], [1] in [[1]], (1, 2) in [(1, 2)], None in [None])
result = [1 in range(3), 5 in range(3)]
