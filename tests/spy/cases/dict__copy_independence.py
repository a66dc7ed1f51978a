a = {"list": [1], "n": 1}
b = a.copy()
b["n"] = 2
b["list"].append(2)
print(a, b)
a.clear()
print(a, b)
result = b
