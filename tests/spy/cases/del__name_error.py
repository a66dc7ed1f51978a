# error: NameError
x = 1
del x
print("deleted")
print(x)
