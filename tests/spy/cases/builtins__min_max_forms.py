print(max(1, 5, 3), min(1, 5, 3), max([4, 9, 2]), min("bca"), max("abc", "abd"), max((1, 2), (1, 3)))
print(max([], default="empty"), min([3], default=0), max([1, 2, 3], key=lambda x: -x))
d = {"a": 3, "b": 9, "c": 1}
print(max(d), max(d, key=d.get), min(d.values()), max(d.items(), key=lambda kv: kv[1]))
print(max([1, 3, 3, 2], key=lambda x: x // 2), min(["bb", "a", "cc", "d"], key=len))
result = [max(2, 2.0), min(0, False)]
