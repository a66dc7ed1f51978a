# error: TypeError
x = ord("")
