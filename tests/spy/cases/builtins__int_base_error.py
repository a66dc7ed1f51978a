# error: ValueError
x = int("9", 8)
