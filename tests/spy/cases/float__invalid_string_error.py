# error: ValueError
print(float("1.5"))
x = float("one point five")
