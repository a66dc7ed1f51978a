# error: ValueError
print(1 << 3)
x = 1 << -1
