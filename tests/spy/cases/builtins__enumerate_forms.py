print(list(enumerate("ab")), list(enumerate(["x"], start=5)), list(enumerate([], 3)))
print(dict(enumerate("xyz")))
pairs = list(enumerate({"k": 1, "j": 2}))
result = pairs
