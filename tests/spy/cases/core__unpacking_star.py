def f(*args, **kwargs):
    return args, kwargs


def g(a, b=2, *rest, c, d=4, **extra):
    return a, b, rest, c, d, extra


print(f(*[1, 2], *(3,), x=1, **{"y": 2}))
print(g(1, c=3), g(1, 2, 3, 4, c=5, z=6), g(*range(3), **{"c": 7, "d": 8}))
first, *middle, last = [1, 2, 3, 4, 5]
a, (b, *c) = 1, "xyz"
*init, tail = "abc"
print(first, middle, last, a, b, c, init, tail)
merged = [*range(3), *"ab", *{"k": 1}]
both = {**{"a": 1}, "b": 2, **{"a": 3}}
tup = (*[1, 2], 3)
print(merged, both, tup, {*[1, 2], *[2, 3]} == {1, 2, 3})
for head, *rest in [(1, 2, 3), (4,), "xy"]:
    print(head, rest)
print([(h, r) for h, *r in ["abc", "de"]])


def kwonly(*, key):
    return key


print(kwonly(key="k"))
try:
    kwonly("x")
except TypeError as e:
    print("TypeError:", e)


def posonly(a, /, b):
    return a + b


print(posonly(1, b=2))
print(max(*[3, 1, 2]), min(4, *[9, 0]), print(*[1, 2], sep="-"))
x, y = y, x = 1, 2
print(x, y)
result = [merged, both, middle]
