# error: TypeError
def f(a, b=1):
    return a + b


x = f(1, a=2)
