# error: ValueError
print(int("12"))
x = int("12.5")
