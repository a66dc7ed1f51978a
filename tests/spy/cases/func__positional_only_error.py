# error: TypeError
def f(a, b, /, c):
    return a + b + c


x = f(a=1, b=2, c=3)
