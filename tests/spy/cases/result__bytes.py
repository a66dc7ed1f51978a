data = b"head"
data += bytes([0, 255])
result = data
