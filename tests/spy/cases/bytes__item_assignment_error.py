# error: TypeError
b = b"ab"
b[0] = 65
