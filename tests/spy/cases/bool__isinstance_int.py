print(isinstance(True, int), isinstance(True, bool), isinstance(1, bool), isinstance(False, (str, int)))
print(True == 1, True is True, [True, 1, 1.0].count(1))
result = [isinstance(True, int), isinstance(0, bool)]
