f = lambda *args, **kwargs: (args, sorted(kwargs.items()))
print(f(), f(1, 2), f(1, b=2, a=1))
g = lambda a, *, k=3: a * k
print(g(2), g(2, k=5))
result = f(9, z=0)
