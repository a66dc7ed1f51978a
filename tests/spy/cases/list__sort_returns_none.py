a = [3, 1, 2]
r = a.sort()
s = sorted(a, reverse=True)
print(r, a, s)
result = [r, a, s]
