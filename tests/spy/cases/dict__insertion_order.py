d = {}
d["b"] = 1
d["a"] = 2
d["c"] = 3
print(d)
d["b"] = 10
print(d, list(d))
del d["a"]
d["a"] = 4
print(d, list(d.keys()), list(d.values()))
result = d
