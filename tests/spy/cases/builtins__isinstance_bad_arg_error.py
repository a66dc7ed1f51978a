# error: TypeError
x = isinstance(1, "int")
