def flatten(x):
    if isinstance(x, (list, tuple)):
        out = []
        for item in x:
            out.extend(flatten(item))
        return out
    return [x]


data = [1, [2, (3, [4, [5]])], [], "six", [[[[7]]]]]
print(flatten(data))
result = flatten(data)
