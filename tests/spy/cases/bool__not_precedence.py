print(not 1 == 2, not (1 == 2), not 1 + 1, (not 1) + 1)
print(not None is None, not [] and True, True == (not False))
result = not 0 in [1, 2]
