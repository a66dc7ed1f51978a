# error: TypeError
print(len([1]))
n = len(42)
