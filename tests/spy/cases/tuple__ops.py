t = (1, 2, 3)
print(t, t[0], t[-1], t[1:], len(t), t + (4,), t * 2)
print((1,), (), tuple([5, 6]), tuple("ab"))
print(t.count(2), t.index(3))
x, y, z = t
print(x + y + z)
point = {"origin": (0, 0)}
print(point["origin"])
result = t
