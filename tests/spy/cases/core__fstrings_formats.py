name = "Ada"
n = 42
f = 3.14159
items = [1, "two", None]
print(f"{name!r:>8}|{name:<6}|{name:^7}|{n:05d}|{n:x}|{n:#o}|{f:.2f}|{f:10.3e}|{n:,}")
print(f"{items}|{items!s}|{items!r}|{ {'k': 1} }|{(1, 2)}|{b'by'}|{None}|{True:>5}")
width = 10
prec = 3
print(f"{f:{width}.{prec}f}|{name:*^{width}}|{n:{'+' if n > 0 else ''}}")
print(f"{n * 2 + 1}{n}{name}{f}{n:b}{-n:+d}")
print(f"{'nested ' + name.upper()}", f"{[x * 2 for x in range(3)]}", f"{len(name)=}")
print("%s is %d years, %.1f%% done, %r, %5s|%-5s|" % (name, n, f, name, "ab", "cd"))
print("%(a)s-%(b)05.1f" % {"a": "x", "b": 2.5}, "%c%c" % (72, "i"), "%x %o %e" % (255, 8, 12345.678))
print("100%", "%s" % (items,), "%s" % [1, 2], "%d%%" % 50)
print(format(n, "08b"), format(f, ".1%"), format("s", ">3"), format(1234567, ","), format(items))
print(str(1.0), str(-0.0), repr(1e16), repr(1.5e-7), str(10 ** 20), f"{1e300 * 10}")
print(ascii("héllo"), repr("tab\there"), "é".encode(), b"\xc3\xa9".decode())
result = f"{n:>{width}}"
