d = {"a": 1, "b": 2}
keys = d.keys()
values = d.values()
items = d.items()
d["c"] = 3
print(list(keys), list(values), list(items))
print(d.keys(), d.values(), d.items())
print("a" in keys, 3 in values, ("b", 2) in items, len(keys))
result = sorted(keys)
