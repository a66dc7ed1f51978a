a = [1, 2]
a.append([3, 4])
a.extend([5, 6])
a.extend("xy")
a.extend(range(2))
a.insert(0, "first")
a.insert(-1, "before-last")
a.insert(100, "end")
a.insert(-100, "start")
print(a)
result = a
