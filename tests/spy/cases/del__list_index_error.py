# error: IndexError
a = [1, 2]
del a[5]
