d = {"a": 1}
d.update({"b": 2, "a": 0})
d.update([("c", 3), ("d", 4)])
d.update(e=5, a=-1)
d.update({"f": 6}, g=7)
print(d)
result = d
