def scaled(values, factor):
    offset = 1
    return [v * factor + offset for v in values]


print(scaled([1, 2, 3], 10))
base = 100
print([base + i for i in range(3)])
result = scaled([0, 5], 2)
