a, b = c = 1, 2
print(a, b, c)
x = [y, z] = [3, 4]
print(x, y, z)
result = [a, b, c, x]
