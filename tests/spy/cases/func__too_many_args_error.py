# error: TypeError
def f(a):
    return a


print(f(1))
x = f(1, 2, 3)
