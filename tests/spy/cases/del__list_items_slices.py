a = list(range(10))
del a[0]
print(a)
del a[-1]
print(a)
del a[1:3]
print(a)
del a[::2]
print(a)
del a[:]
print(a)
result = a
