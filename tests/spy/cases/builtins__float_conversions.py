print(float("3.25"), float(" -2 "), float(7), float("1e-3"), float("INF"), float(True), float())
print(float(2 ** 60), float("0.1") + float("0.2"))
result = [float("2.5"), float(3)]
