def apply_n(f, n, x):
    for _ in range(n):
        x = f(x)
    return x


def compose(*fs):
    def run(x):
        for f in reversed(fs):
            x = f(x)
        return x
    return run


def inc(x):
    return x + 1


def dbl(x):
    return x * 2


print(apply_n(dbl, 10, 1), compose(inc, dbl)(5), compose(dbl, inc)(5), compose()(7))
result = list(map(compose(str, inc), [1, 2]))
