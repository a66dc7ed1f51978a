a = list(range(10))
a[1:3] = ["a", "b", "c"]
print(a)
a[::3] = [0, 0, 0, 0]
print(a)
a[:0] = ["head"]
a[len(a):] = ["tail"]
print(a)
a[2:5] = []
print(a)
a[-2:] = "xy"
print(a)
result = a
