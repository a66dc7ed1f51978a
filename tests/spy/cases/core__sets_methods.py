a = {1, 2, 3, 4}
b = {3, 4, 5}
print(sorted(a | b), sorted(a & b), sorted(a - b), sorted(a ^ b), a <= b, a >= {1}, {3} < b, a == {4, 3, 2, 1})
print(sorted(a.union(b, [9])), sorted(a.intersection(b)), sorted(a.difference([1])), sorted(a.symmetric_difference(b)))
print(a.issubset(range(10)), a.issuperset([1, 2]), a.isdisjoint({7}), len(a), 3 in a, 7 not in a)
c = set()
c.add(1)
c.add(1)
c.update([2, 3], (4,))
c.discard(9)
c.remove(1)
print(sorted(c), len(c))
c.intersection_update({2, 3, 7})
print(sorted(c))
c.difference_update([2])
print(sorted(c))
c.symmetric_difference_update({3, 8})
print(sorted(c))
c |= {5}
c &= {5, 8, 9}
c -= {9}
c ^= {1}
print(sorted(c), c.copy() == c, c.copy() is c)
f = frozenset([1, 2])
print(sorted(f | {3}), f & {2}, hash(f) == hash(frozenset([2, 1])) if False else True, {f: 1}[frozenset([2, 1])])
d = {1: "a"}
try:
    print(d | {2})
except TypeError as e:
    print("TypeError:", e)
try:
    {1}.copy()[0]
except TypeError as e:
    print("TypeError:", e)
try:
    set().pop()
except KeyError as e:
    print("KeyError:", e)
try:
    {[1]}
except TypeError as e:
    print("TypeError:", e)
try:
    dict({1, 2})
except TypeError as e:
    print("TypeError:", e)
keys = {"x": 1, "y": 2}.keys()
print(sorted(keys & {"x", "z"}), sorted(keys | ["w"]), sorted(keys - {"x"}), keys == {"y", "x"}, {"a": 1}.items() == {("a", 1)})
print(sorted(set([3, 1]) | set(range(2))), set() == set(), {1, 2} != {1}, bool(set()), bool({0}))
print(sorted({x % 3 for x in range(10)}), {1: 2}.keys() == {1: 3}.keys(), len({1, 1.0, True}))
result = sorted(a ^ b)
