print(any([]), all([]), any([0, "", None]), all([1, "a", [0]]), any([0, 0.0, 1e-9]))
result = [any(()), all(())]
