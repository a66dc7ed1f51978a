x = 0.1 + 0.2
print(x)
print(1.5 * 4, 10 / 4, 7.0 // 2, 7.5 % 2)
print(round(2.675, 2), round(3.5), round(4.5), round(-2.5))
print(abs(-3.25), float("1e3"), int(3.99), int(-3.99))
print(1e300 * 10)
print(3.0 == 3, 0.5 + 0.5)
result = [x, round(x, 3)]
