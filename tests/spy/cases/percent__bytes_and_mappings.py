print(b"%s and %d and %r" % (b"xy", 5, "s"), b"%a" % ("\xe9",), b"%5s|%-4d|" % (b"a", 7))
print(b"%r" % (len,), b"%r" % ([1, b"2"],), b"%(k)s" % {b"k": b"v"}, b"%a" % (abs,))
print("%s" % {"a": 1}, "%s %(a)s" % {"a": 1}, "%(a)r" % {"a": [len]}, "%s" % {len: 1})
print("%r" % "\x00\t\n\U0001f600", "%a" % "\xe9", "%r" % (b"\x00\xff",))
msgs = []
for call in [
    lambda: "%d" % [1],
    lambda: "%d" % {"a": 1},
    lambda: "%x" % (1.5,),
    lambda: "%(a)s" % {"b": 1},
    lambda: "%(a)s" % [1],
    lambda: b"%s" % ([1],),
    lambda: b"%s" % ("str",),
    lambda: b"%d" % (b"x",),
    lambda: b"%s %s" % (b"x",),
    lambda: "%c" % [1],
]:
    try:
        call()
        msgs.append("no error")
    except (TypeError, KeyError) as e:
        msgs.append(repr(e))
print(msgs)
result = b"%s-%s" % (b"a", b"b")
