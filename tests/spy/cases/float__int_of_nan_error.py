# error: ValueError
x = int(float("nan"))
