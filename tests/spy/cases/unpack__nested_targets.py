(a, b), c = (1, 2), 3
print(a, b, c)
[x, [y, z]] = [10, (20, 30)]
print(x, y, z)
pairs = [(1, ("a", "b")), (2, ("c", "d"))]
for n, (p, q) in pairs:
    print(n, p + q)
(m, *ms), k = "abc", 0
print(m, ms, k)
result = [a, b, c, x, y, z]
