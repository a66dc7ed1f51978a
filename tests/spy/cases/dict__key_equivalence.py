d = {1: "int", True: "bool", 1.0: "float"}
print(d, len(d))
e = {0: "zero"}
e[False] = "false"
e[0.0] = "float zero"
print(e)
f = {(1, 2): "tuple", "1": "str", None: "none"}
print(f[(1, 2)], f["1"], f[None])
result = d
