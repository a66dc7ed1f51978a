# error: TypeError
x = hex(1.5)
