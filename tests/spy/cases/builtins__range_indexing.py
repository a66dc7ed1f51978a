r = range(0, 20, 3)
print(len(r), r[0], r[-1], r[2], list(r[::2]), list(r[1:4]), list(r[::-1]))
print(range(3) == range(0, 3), range(0) == range(5, 5), list(range(5)[-2:]))
result = [r[3], 18 in r, 19 in r]
