d = {"a": 1, "b": 2, "c": 3}
del d["b"]
print(d, "b" in d, "a" in d, 1 in d, "c" not in d)
result = d
