a = b"ab"
b = b"cd"
print(a + b, a * 3, 2 * b, a + b"")
c = a
c += b"!"
print(a, c)
result = c * 2
