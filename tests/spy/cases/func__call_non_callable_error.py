# error: TypeError
x = 5
print(x)
y = x()
