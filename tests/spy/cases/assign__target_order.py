x = [0, 0, 0]
i = 0
i, x[i] = 1, 9
print(i, x)
a = [1, 2, 3]
j = 0
a[j], j = 7, 2
print(a, j)
result = [x, a]
