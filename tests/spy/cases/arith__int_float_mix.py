print(1 + 2.0, 3 * 1.5, 7 - 0.5, 2 ** 2.0)
print(1 + True, 2.5 * False, True / 2)
print(10 // 3.0, 10 % 3.0)
result = [1 + 2.0, 10 // 3.0]
