print(float("  3.5 "), float("-1e-3"), float("1_000.5"), float("+.5"), float("5."))
print(float("inf"), float("-Infinity"), float("nan"), float("1e400"))
print(float(3), float(True), float(-7))
result = [float("  3.5 "), float(3)]
