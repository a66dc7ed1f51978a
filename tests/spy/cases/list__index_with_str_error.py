# error: TypeError
a = [1, 2]
x = a["0"]
