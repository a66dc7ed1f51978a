a = [1, 2, 3]
b = a.copy()
a.reverse()
print(a, b, a is b)
c = a[:]
a.clear()
print(a, c, len(a))
result = [a, b, c]
