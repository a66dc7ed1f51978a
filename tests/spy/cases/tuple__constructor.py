print(tuple("abc"), tuple([1, 2]), tuple(range(3)), tuple({"a": 1, "b": 2}), tuple((5,)))
result = tuple(x * 2 for x in range(3))
