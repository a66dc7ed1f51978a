def f(a, b=2, *args, c, d=4, **kw):
    return [a, b, args, c, d, kw]


print(f(1, c=3))
print(f(1, 20, 30, 40, c=3, e=5))
print(f(a=0, c=0, d=0, z=0))
result = f(*"xy", c="c", **{"k": "v"})
