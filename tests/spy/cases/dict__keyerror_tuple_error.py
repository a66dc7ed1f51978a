# error: KeyError
d = {(1, 2): "a"}
print(d[(1, 2)])
x = d[(2, 1)]
