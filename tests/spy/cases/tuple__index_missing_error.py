# error: ValueError
t = (1, 2)
x = t.index(7)
