it = iter(range(5))
for i in range(40):
    it = map(abs, it)
    it = filter(None, it) if i % 7 == 0 else it
    it = (x + 0 for x in it)
print(list(it))
z = zip(range(3))
for i in range(30):
    z = zip(z, range(100))
print(next(z)[1], len(list(z)))
e = enumerate("abc")
for i in range(30):
    e = enumerate(e, start=i)
print(next(e)[0])
g = (y for y in [1, 2])
chain = (next(h) for h in [g])
print(list(chain), list(g))
result = sum(x * 2 for x in map(abs, (y - 5 for y in range(10))))
