x = 5
assert x == 5
assert x > 0, "x must be positive"
assert [1], "non-empty list is truthy"
print("all assertions passed")
result = x
