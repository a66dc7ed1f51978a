x = 1
y = 2
del x
x = "back"
print(x, y)
del x, y
z = 3
result = z
