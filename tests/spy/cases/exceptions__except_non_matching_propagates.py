# error: IndexError
try:
    print("before")
    [1][5]
except KeyError:
    print("wrong handler")
