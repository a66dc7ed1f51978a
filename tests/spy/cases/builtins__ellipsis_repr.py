x = ...
print(repr(x), str(x), f"{x}", f"{x!r}", [x], (x, 1), {"k": x})
print("%s %r" % (x, x), format(x))
result = [repr(...), str(...), ascii(...)]
