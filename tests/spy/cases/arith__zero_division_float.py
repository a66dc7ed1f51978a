# error: ZeroDivisionError
print(1.0 / 4)
x = 1.0 / 0.0
