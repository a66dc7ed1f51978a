a = 1
b = "x"
result = (a, b, (a, b))
