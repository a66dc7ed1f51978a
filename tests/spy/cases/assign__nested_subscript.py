m = [[0] * 3 for _ in range(3)]
m[1][2] = 5
m[-1][0] = 7
d = {"rows": [[1], [2]]}
d["rows"][1][0] = "two"
d["rows"].append([3])
print(m, d)
result = [m, d]
