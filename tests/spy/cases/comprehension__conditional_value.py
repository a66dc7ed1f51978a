vals = [x if x % 3 else -x for x in range(10)]
print(vals)
labels = ["even" if n % 2 == 0 else "odd" for n in range(5)]
print(labels)
result = vals
