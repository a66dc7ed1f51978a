def f(a, b, c=0, *rest):
    return [a, b, c, rest]


args = [1, 2]
more = (3, 4, 5)
print(f(*args), f(*args, *more), f(0, *more), f(*"xy"))
print(max(*[3, 9, 2]), list(zip(*[[1, 2], [3, 4]])))
result = f(*range(5))
