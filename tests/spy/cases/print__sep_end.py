print("a", "b", "c")
print("a", "b", sep="")
print("x", "y", sep=", ")
print("line", end="\n")
print("two lines", end="!\n")
print()
print(1, None, True, 2.5, [1, "s"], {"k": (1,)})
print("multi\nline")
result = None
