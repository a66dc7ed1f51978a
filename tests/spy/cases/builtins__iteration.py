names = ["a", "b", "c"]
ages = [1, 2, 3]
for i, n in enumerate(names, 1):
    print(i, n)
for n, a in zip(names, ages):
    print(n, a)
print(list(zip(names, ages)), list(enumerate("xy")))
print(list(range(5)), list(range(2, 10, 3)), list(range(5, 0, -2)))
r = range(1000000000)
print(len(r), r[10], 999 in r)
print(list(reversed([1, 2, 3])), any([0, 1]), all([1, 0]))
result = dict(zip(names, ages))
