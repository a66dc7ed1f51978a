s = {1, 2, 3}
print(s, len(s), 2 in s, 5 in s, 5 not in s)
t = {1, 1, 2, 2, 3}
print(t, s == t)
result = sorted(s)
