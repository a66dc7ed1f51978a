# error: IndexError
a = [1, 2]
a[1] = 5
a[2] = 6
