print(bytes(3), bytes([65, 66, 67]), bytes(range(48, 52)), bytes(b"xy"), bytes())
print(bytes((1, 2, 255)))
result = bytes([104, 105])
