t = True
f = False
print(t and f, t or f, not t, not f)
print(0 or "default", "" or None, 1 and 2, 0 and 2)
print(not [], not [0], bool({}), bool("x"))
x = None
y = x or 42
print(y)
z = (1 if t else 2) + (3 if f else 4)
print(z)
result = [t and f, t or f, y, z]
