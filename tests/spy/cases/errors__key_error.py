d = {"a": 1}
print(d["a"])
x = d["missing"]
