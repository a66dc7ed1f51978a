print(abs(-5), abs(5), abs(-2.5), abs(True), abs(-0.0), abs(-(2 ** 70)), abs(False))
result = [abs(-7), abs(-7.5)]
