def is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


print([is_number(v) for v in [1, 2.0, "3", True, None]])
print(isinstance("a", (list, tuple)), isinstance([], (list, tuple)), isinstance(1, ()))
result = isinstance((), (int, (str, tuple)))
