# error: ValueError
a = [0, 1, 2, 3, 4]
a[::2] = [1]
