n = 10


def f(x=n):
    return x


n = 20
print(f(), f(n))
def g(items=[n, n * 2]):
    return items


n = 30
print(g())
result = f()
