def make_adder(n):
    def add(x):
        return x + n

    return add


add5 = make_adder(5)
print(add5(10))


def apply(f, values):
    out = []
    for v in values:
        out.append(f(v))
    return out


def square(x):
    return x * x


print(apply(square, [1, 2, 3]))
print(apply(add5, [1, 2, 3]))
print(sorted(["bb", "a", "ccc"], key=len))
result = apply(make_adder(100), [1])
