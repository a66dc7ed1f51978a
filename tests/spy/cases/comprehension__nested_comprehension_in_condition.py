rows = [[1, 2], [3, 4, 5], [6]]
long_rows = [r for r in rows if len([x for x in r if x > 2]) >= 2]
print(long_rows)
result = [sum(x for x in r) for r in rows]
