print(str(1), str(1.5), str(None), str(True), str([1, "a"]), str({"a": 1}), str((1,)), str(""))
print(repr(1), repr("a"), repr([1, "a"]), repr(None), repr((1, "b")))
result = [str(12), repr("12"), str(-0.0)]
