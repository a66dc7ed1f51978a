# error: TypeError
a, b = 5
