# error: TypeError
try:
    x = 1 / 0
except ZeroDivisionError:
    print("handling")
    y = "a" + 1
