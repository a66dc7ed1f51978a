t = ([1], {"k": 0})
t[0].append(2)
t[1]["k"] += 1
print(t)
result = t
