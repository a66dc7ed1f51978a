# error: ValueError
d = {}
d.update([("a", 1, 2)])
