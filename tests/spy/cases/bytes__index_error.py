# error: IndexError
b = b"ab"
print(b[1])
x = b[5]
