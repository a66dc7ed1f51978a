# error: TypeError
a = [3, 1, "a"]
a.sort()
