# error: TypeError
x = -"abc"
