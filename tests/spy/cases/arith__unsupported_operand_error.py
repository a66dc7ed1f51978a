# error: TypeError
print(1 + 1)
x = [1] - [1]
