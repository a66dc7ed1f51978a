a = 17
b = 5
print(a + b, a - b, a * b, a // b, a % b, a ** b)
print(-a // b, -a % b, a // -b, a % -b)
print(-a, +a, -(-a))
print(2 ** 100)
print(2 ** -1)
print(7 / 2, 8 / 2)
print((a + b) * (a - b) - a ** 2 + b ** 2)
result = a * b + a // b
