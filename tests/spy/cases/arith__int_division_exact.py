a = 10 ** 20
b = 10 ** 10
print(a // b, a / b, a % b)
print(10 ** 16 / 1, 10 ** 17 // 3)
result = [a // b, a / b]
