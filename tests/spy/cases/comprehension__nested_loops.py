pairs = [(x, y) for x in range(4) for y in range(x)]
print(pairs)
print([a + b for a in "xy" for b in "12"])
print([(i, j) for i in range(3) if i != 1 for j in range(3) if j != i])
result = pairs
