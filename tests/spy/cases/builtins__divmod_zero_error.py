# error: ZeroDivisionError
print(divmod(1, 1))
x = divmod(1, 0)
