parts = [[1], [2, 3], [], [4]]
print(sum(parts, []), len(sum(parts, [])))
flat = []
for p in parts:
    flat += p
result = flat
