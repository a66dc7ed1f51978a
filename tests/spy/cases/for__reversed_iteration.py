for x in reversed([1, 2, 3]):
    print(x)
print(list(reversed("abc")), list(reversed(range(4))), list(reversed((1, 2))))
print(list(reversed({"a": 1, "b": 2})))
result = "".join(reversed("stressed"))
