# error: ValueError
print(min([1]))
x = min([])
