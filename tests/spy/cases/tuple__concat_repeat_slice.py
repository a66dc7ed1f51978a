a = (1, 2)
b = a + (3,)
print(b, a * 2, b[::-1], b[1:], b[-1])
a += (9,)
print(a)
result = b + a
