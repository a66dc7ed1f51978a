# error: TypeError
print("-".join(["a", "b"]))
x = "-".join(["a", 1, "c"])
