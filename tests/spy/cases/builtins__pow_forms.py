print(pow(2, 10), pow(2, 100, 1000), pow(3, -1, 7), pow(2, -1), pow(2.0, 3), pow(-2, 3), pow(7, 0, 5))
print(pow(10, 20), pow(5, 3, 13), pow(0, 0))
result = [pow(2, 5), pow(3, 200, 10 ** 9 + 7)]
