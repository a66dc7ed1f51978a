# error: TypeError
x = sorted([3, None, 1])
