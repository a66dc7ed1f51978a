order = []


def g(x):
    order.append(x)
    return x


def f(*args, **kw):
    return args, kw


print(f(g(1), g(2), k=g(3), j=g(4)))
print(order)
result = order
