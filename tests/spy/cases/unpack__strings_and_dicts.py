a, b, c = "xyz"
print(a, b, c)
k1, k2 = {"first": 1, "second": 2}
print(k1, k2)
(k, v), = {"only": 1}.items()
print(k, v)
result = [a, k1, k]
