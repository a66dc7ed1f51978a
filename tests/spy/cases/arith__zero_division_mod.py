# error: ZeroDivisionError
print(5 % 3)
x = 5 % 0
