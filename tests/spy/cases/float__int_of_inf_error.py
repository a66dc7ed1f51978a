# error: OverflowError
x = int(float("inf"))
