print(str(), str(42), str(-1.5), str(True), str(None), str([1, "a"]), str((1, "a")), str({"a": [1]}))
print(str(b"xy"), str(2 ** 64), str(1e100), str(""))
result = str(3) + str(4.0)
