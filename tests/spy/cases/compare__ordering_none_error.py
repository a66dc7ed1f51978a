# error: TypeError
x = None > 0
