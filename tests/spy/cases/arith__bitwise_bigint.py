a = 2 ** 70 - 1
b = 2 ** 65
print(a & b, a | b, a ^ b)
print((a >> 60), a.bit_length(), b.bit_length())
result = a ^ (a >> 1)
