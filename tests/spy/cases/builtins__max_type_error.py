# error: TypeError
x = max(1, "a")
