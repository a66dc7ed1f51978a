# error: TypeError
x = abs("-5")
