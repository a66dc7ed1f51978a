def bubble(values):
    v = values.copy()
    n = len(v)
    for i in range(n):
        swapped = False
        for j in range(n - 1 - i):
            if v[j] > v[j + 1]:
                v[j], v[j + 1] = v[j + 1], v[j]
                swapped = True
        if not swapped:
            break
    return v


data = [5, 3, 8, 1, 9, 2, 7]
print(bubble(data))
print(data)
result = bubble(data) == sorted(data)
