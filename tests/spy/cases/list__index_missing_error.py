# error: ValueError
a = [1, 2]
i = a.index(3)
