# error: ZeroDivisionError
print(7 // 2)
x = 7 // 0
