# error: ValueError
print(list(zip([1, 2], "ab", strict=True)))
x = list(zip([1, 2, 3], "ab", strict=True))
