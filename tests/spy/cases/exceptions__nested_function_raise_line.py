# error: ZeroDivisionError
def inner(x):
    return 100 // x


def outer(xs):
    return [inner(x) for x in xs]


print(outer([1, 2]))
print(outer([3, 0]))
