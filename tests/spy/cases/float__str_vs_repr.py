vals = [1.0, 0.1, 1e16, 1.5e-8, 3.14159, 2.0 ** 60]
for v in vals:
    print(str(v), repr(v))
result = [str(v) for v in vals]
