bad = [[0] * 2] * 3
bad[0][0] = 1
good = [[0] * 2 for _ in range(3)]
good[0][0] = 1
print(bad)
print(good)
print([None] * 3, [1, 2] * 2, [] * 5, [7] * 0)
result = [bad, good]
