a = {1, 2, 3}
b = a.copy()
a.clear()
print(a, sorted(b), len(a))
result = sorted(b)
