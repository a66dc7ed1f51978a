items = [1, 2, 3]
for x in items:
    x = x * 100
print(items, x)
seen = []
for i in range(3):
    i = 10
    seen.append(i)
print(seen, i)
result = [items, x, seen]
