a = 0b1100
b = 0b1010
print(a & b, a | b, a ^ b, a << 2, a >> 2, ~a)
print((255).bit_length(), True + True)
result = [a & b, a | b]
