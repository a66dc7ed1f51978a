print(len("abc"), len([1, 2]), len((1,)), len({"a": 1, "b": 2}), len({1, 2, 3}), len(b"xyz"), len(range(0, 10, 3)), len(""))
result = [len("héllo"), len([[]]), len(range(5, 0, -1))]
