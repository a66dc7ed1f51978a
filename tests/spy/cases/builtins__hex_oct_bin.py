print(hex(255), hex(-255), hex(0), oct(8), oct(-8), bin(5), bin(-5), bin(0), hex(2 ** 70))
print(int(hex(12345), 16), int(bin(77), 2), int(oct(99), 8))
result = [hex(16), oct(16), bin(16)]
