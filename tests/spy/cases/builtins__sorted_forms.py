print(sorted([3, 1, 2]), sorted("bca"), sorted((2, 1)), sorted({"b": 1, "a": 2}), sorted([]))
print(sorted([3, 1, 2], reverse=True), sorted(["aa", "b", "ccc"], key=len), sorted([-3, 2, -1], key=abs))
print(sorted([(1, "b"), (1, "a"), (0, "z")]), sorted([2.5, 1, True]))
result = sorted("hello world".split(), key=lambda w: w[-1])
