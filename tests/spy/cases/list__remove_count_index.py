a = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]
print(a.count(5), a.count(7), a.index(5), a.index(5, 5), a.index(1, 2, 4))
a.remove(1)
a.remove(5)
print(a)
result = a
