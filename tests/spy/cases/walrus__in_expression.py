print((y := 5) + y)
values = [(z := 2), z * 3]
print(values, y, z)
result = [y, z]
