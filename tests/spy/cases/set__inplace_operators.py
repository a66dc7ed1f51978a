s = {1, 2, 3}
s |= {4, 5}
print(sorted(s))
s &= {2, 3, 4, 5, 6}
print(sorted(s))
s -= {2}
print(sorted(s))
s ^= {3, 10}
print(sorted(s))
result = sorted(s)
