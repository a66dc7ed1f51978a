# error: ValueError
x = "abc"
s = f"{x:d}"
