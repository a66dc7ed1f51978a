# error: TypeError
def f(a, b=0):
    return a + b


print(f(1, **{"b": 2}))
x = f(a=1, **{"a": 2})
