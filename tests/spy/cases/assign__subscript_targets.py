d = {}
d["a"] = 1
d["b"] = [0, 0, 0]
d["b"][1] = 5
d["a"] += 41
d["b"][2] += 7
lst = [1, 2, 3, 4, 5]
lst[0] = 100
lst[-1] *= 10
lst[1:3] = ["x", "y", "z"]
lst[0:1] += [101]
print(d)
print(lst)
m = [[0, 0], [0, 0]]
m[1][0], m[0][1] = 3, 4
print(m)
result = {"d": d, "lst": lst, "m": m}
