a = [1, 2, 3, 4]
a[1:3] += [9, 9]
print(a)
a[:2] *= 2
print(a)
s = [0, 1, 2, 3, 4, 5]
s[::2] = [x * 10 for x in s[::2]]
print(s)
result = a
