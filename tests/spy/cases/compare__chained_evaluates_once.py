calls = []


def f(x):
    calls.append(x)
    return x


print(f(1) < f(2) < f(3))
print(f(5) < f(4) < f(6))
print(calls)
result = calls
