# error: NameError
def f():
    return helper_that_does_not_exist(1)


f()
