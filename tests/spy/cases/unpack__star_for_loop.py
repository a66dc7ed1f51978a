rows = [[1, 2, 3], [4], [5, 6]]
for first, *rest in rows:
    print(first, rest)
for *init, last in rows:
    print(init, last)
result = [r[0] for r in rows]
