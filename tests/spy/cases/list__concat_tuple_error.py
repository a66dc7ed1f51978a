# error: TypeError
a = [1]
print(a + [2])
b = a + (2,)
