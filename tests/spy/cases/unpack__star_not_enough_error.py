# error: ValueError
a, *b = [1]
print(a, b)
a, b, *c = [1]
