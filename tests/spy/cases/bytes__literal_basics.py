b = b"abc"
print(b, len(b), b[0], b[-1], b[1:], b[::-1], b[5:])
print(repr(b), str(b), b == b"abc", b"" == b"")
result = b[1:]
