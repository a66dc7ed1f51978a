x = 1
y = x + 2
x = y * 3
name = "spy"
flag = True
nothing = None
print(x, y, name, flag, nothing)
result = x
