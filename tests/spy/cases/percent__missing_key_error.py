# error: KeyError
x = "%(a)s %(b)s" % {"a": 1}
