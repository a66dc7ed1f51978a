flags = 0
flags |= 1 << 3
flags |= 1 << 0
flags ^= 0b1111
flags &= ~0b0010
flags <<= 2
flags >>= 1
print(flags, bin(flags))
result = flags
