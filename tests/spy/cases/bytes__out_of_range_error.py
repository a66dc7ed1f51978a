# error: ValueError
print(bytes([0, 255]))
x = bytes([256])
