a = b = c = []
a.append(1)
print(a, b, c, a is c)
x = y = 5
x += 1
print(x, y)
i = j = k = "s"
result = [a, x, y, i + j + k]
