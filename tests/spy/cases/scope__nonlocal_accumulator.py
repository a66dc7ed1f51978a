def running_mean():
    total = 0
    count = 0

    def add(x):
        nonlocal total, count
        total += x
        count += 1
        return total / count

    return add


m = running_mean()
print([m(x) for x in [10, 20, 30, 40]])
result = m(50)
