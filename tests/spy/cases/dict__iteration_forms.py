d = {"x": 1, "y": 2, "z": 3}
for k in d:
    print(k, d[k])
for k, v in d.items():
    print(k, "=", v)
for i, (k, v) in enumerate(d.items()):
    print(i, k, v)
result = [k + str(v) for k, v in d.items()]
