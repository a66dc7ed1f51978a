vals = ["0", "1", "-3", "007"]
print([int(v) for v in vals], [bool(int(v)) for v in vals], [str(int(v)) for v in vals])
print(int(float("2.999")), float(int("3")), str(float("1e3")))
result = [int(str(x)) for x in [1, -1, 0]]
