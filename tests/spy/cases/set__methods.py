a = {1, 2, 3}
b = {2, 3, 4}
print(sorted(a.union(b)), sorted(a.intersection(b)), sorted(a.difference(b)), sorted(a.symmetric_difference(b)))
print(a.issubset({1, 2, 3, 4}), a.issuperset({1}), a.isdisjoint({7, 8}), a.isdisjoint(b))
print(sorted(a.union([9, 8], (7,))), sorted(a.intersection(range(3))))
result = sorted(a.union(b))
