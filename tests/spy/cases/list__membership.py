a = [1, "two", (3,), [4], None]
print(1 in a, "two" in a, (3,) in a, [4] in a, None in a, 2 not in a, 3 in a, 1.0 in a)
result = [x in a for x in [1, "2", None]]
