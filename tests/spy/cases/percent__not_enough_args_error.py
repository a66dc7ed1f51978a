# error: TypeError
x = "%s and %s" % ("one",)
