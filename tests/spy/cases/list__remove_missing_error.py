# error: ValueError
a = [1, 2]
a.remove(2)
a.remove(3)
