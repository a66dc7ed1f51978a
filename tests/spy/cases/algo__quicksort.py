def quicksort(xs):
    if len(xs) <= 1:
        return xs
    pivot, *rest = xs
    return quicksort([x for x in rest if x < pivot]) + [pivot] + quicksort([x for x in rest if x >= pivot])


data = [33, 10, 59, 26, 41, 58, 10, -3, 0, 99, 26]
print(quicksort(data))
result = quicksort(data) == sorted(data)
