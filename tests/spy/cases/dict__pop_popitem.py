d = {"a": 1, "b": 2, "c": 3, "d": 4}
print(d.pop("b"), d.pop("zz", "default"), d.pop("zz", None))
print(d.popitem(), d.popitem(), d)
result = d
