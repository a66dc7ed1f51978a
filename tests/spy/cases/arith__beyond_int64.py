x = 2 ** 63
print(x - 1, x, x + 1, -x - 1)
print((2 ** 64) % 1000, 2 ** 64 // 3)
result = [x - 1, x, -x - 1]
