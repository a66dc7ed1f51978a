print(list(), list("abc"), list((1, 2)), list({"a": 1, "b": 2}), list(range(3)), list({"a": 1}.values()))
a = [1, 2]
b = list(a)
b.append(3)
print(a, b, list(reversed(a)), list(enumerate(a)))
result = list("xyz")
