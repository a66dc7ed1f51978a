a = 2 ** 100
b = 3 ** 50 * 7 ** 30
print(a)
print(b)
print(a * b)
print(len(str(a * b)))
result = a * b
