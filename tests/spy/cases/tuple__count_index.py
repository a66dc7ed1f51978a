t = (1, 2, 3, 2, 1, 2)
print(t.count(2), t.count(5), t.index(3), t.index(2, 2), t.index(1, 1))
result = t.index(2, 4)
