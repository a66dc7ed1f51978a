d = {"a": 1, "b": 2}
print(d.get("a"), d.get("z"), d.get("z", 0))
print(list(d.keys()), list(d.values()), list(d.items()))
d.update({"c": 3})
print(d.setdefault("d", 4), d.setdefault("a", 99))
print(d.pop("b"), d.pop("zz", "none"), d)
c = d.copy()
c["e"] = 5
print(d, c)
print(c.popitem(), len(c))
for k, v in d.items():
    print(k, v)
for k in d:
    print(k)
result = d
