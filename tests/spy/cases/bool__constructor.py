print(bool(0), bool(""), bool([0]), bool(0.0), bool("False"), bool(-0.0), bool(None), bool(()), bool(" "))
print(bool(), bool(1), bool({}), bool({0: 0}), bool(range(0)), bool(range(1)))
result = [bool(x) for x in [0, 1, "", "a"]]
