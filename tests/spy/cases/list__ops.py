a = [1, 2, 3]
b = a
b.append(4)
print(a, a is b, a == [1, 2, 3, 4])
print(a + [5], [0] * 3, a[1:3], a[::-1], len(a))
nested = [[1, 2], [3, [4, 5]]]
print(nested[1][1][0])
a[1:3] = []
print(a)
print(list("abc"), list(range(3)), list((1, 2)))
empty = []
print(empty, len(empty), not empty)
result = nested
