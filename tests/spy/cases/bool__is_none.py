x = None
y = 0
print(x is None, y is None, y is not None, x is not None, x == None, [] is None)
def maybe(v):
    return None if v < 0 else v
print([maybe(v) is None for v in [-1, 0, 1]])
result = x is None
