print(float(2 ** 100), float(10 ** 22), float(2 ** 53 + 1))
print(2 ** 100 / 2 ** 99, 10 ** 30 / 10 ** 28)
result = float(2 ** 60)
