t = (1,)
e = ()
u = 1, 2
print(t, e, u, len(t), len(e), (1), (1,) * 3)
print(tuple(), (None,), ((),))
result = [t, e, u]
