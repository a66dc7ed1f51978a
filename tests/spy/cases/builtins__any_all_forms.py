print(any([0, 0, 1]), any([]), any("a"), all([1, 2, 0]), all([]), all("abc"), any([[], ()]), all([[0]]))
result = [any(x > 3 for x in [1, 5]), all(isinstance(x, int) for x in [1, True])]
