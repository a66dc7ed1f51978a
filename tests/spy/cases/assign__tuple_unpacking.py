a, b = 1, 2
a, b = b, a
print(a, b)
(c, d), e = (3, 4), 5
print(c, d, e)
[f, g] = [6, 7]
h, i = "xy"
print(f, g, h, i)
p = q = 10
print(p, q)
result = (a, b, c, d, e, f, g)
