print(dict(a=1), dict([("k", "v")]), tuple("ab"), tuple([1]), sorted(set([3, 1, 3])), set())
print(dict(zip(range(3), "abc")), tuple({"x": 0}), sorted(set("banana")))
result = [dict(x=1), tuple(range(2))]
