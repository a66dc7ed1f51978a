calls = []


def track(x):
    calls.append(x)
    return x * 10


m = map(track, [1, 2, 3])
print(calls)
first = next(m)
print(first, calls)
print(list(m), calls)
result = calls
