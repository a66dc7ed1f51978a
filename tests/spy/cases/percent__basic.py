print("%d %s %r" % (1, "a", "a"))
print("%s and %s" % ("x", [1, 2]), "%i" % 7, "%u" % 8)
print("%s" % None, "%s" % (None,), "%r" % (1.5,))
result = "%s-%d" % ("n", 3)
