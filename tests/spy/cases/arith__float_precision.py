x = 0.1 + 0.2
print(x, x == 0.3, abs(x - 0.3) < 1e-9)
print(0.1 * 3, 1.1 + 2.2, 3.3 - 1.1)
print(1 - 0.9, 100 * 1.1)
result = round(x, 10)
