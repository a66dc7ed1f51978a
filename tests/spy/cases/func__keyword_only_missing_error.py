# error: TypeError
def f(a, *, b):
    return a + b


print(f(1, b=2))
x = f(1)
