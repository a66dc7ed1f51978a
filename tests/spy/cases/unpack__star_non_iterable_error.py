# error: TypeError
def f(*args):
    return args


x = f(*5)
