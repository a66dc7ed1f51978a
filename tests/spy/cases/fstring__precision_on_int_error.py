# error: ValueError
s = f"{10:.2d}"
