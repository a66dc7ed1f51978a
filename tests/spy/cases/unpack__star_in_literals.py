a = [1, 2]
b = (3, 4)
print([*a, *b, 0], (*a,), (*a, *b), [*"hi", *range(2)])
print(sorted({*a, *b, 1}))
c = *a, 5
print(c)
result = [*a, *b]
