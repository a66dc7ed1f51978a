# error: AssertionError
x = -3
assert x != 0
print("first passed")
assert x > 0, f"x must be positive, got {x}"
