# error: TypeError
x = "%s" % (1, 2)
