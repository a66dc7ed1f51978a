calls = []


def idx():
    calls.append("idx")
    return 1


a = [10, 20, 30]
a[idx()] += 5
print(a, calls)
result = calls
