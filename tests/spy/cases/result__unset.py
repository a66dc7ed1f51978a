x = 1
print("no result assigned", x)
