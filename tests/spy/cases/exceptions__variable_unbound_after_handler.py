# error: NameError
try:
    raise ValueError("gone")
except ValueError as e:
    print("inside:", e)
print("after handler")
print(e)
