# error: ValueError
x = "a b".split("")
