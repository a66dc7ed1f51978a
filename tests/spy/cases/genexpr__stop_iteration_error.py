# error: StopIteration
g = (x for x in [1])
print(next(g))
y = next(g)
