m = [[1, 2, 3], [4, 5, 6]]
t = [list(col) for col in zip(*m)]
print(t)
print([row[::-1] for row in m], [r[1] for r in m], sum(sum(r) for r in m))
m[1][2] = 60
print(m)
result = t
