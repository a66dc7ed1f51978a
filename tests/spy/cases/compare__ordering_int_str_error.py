# error: TypeError
print(1 < 2)
x = 1 < "a"
