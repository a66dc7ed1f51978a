x = -(2 ** 70)
print(x, x // 3, x % 3, abs(x))
print(x + 2 ** 70, x * x)
print(-x > 2 ** 69, x < -(2 ** 69))
result = x
