counter = 0


def bump(n=1):
    global counter
    counter += n
    return counter


def make_counter():
    count = 0

    def inc():
        nonlocal count
        count += 1
        return count

    def get():
        return count

    return inc, get


inc, get = make_counter()
inc()
inc()
bump()
bump(5)
print(counter, get())


def outer():
    x = "outer"

    def middle():
        def inner():
            nonlocal x
            x = "changed"
            return x

        return inner()

    middle()
    return x


print(outer())
adders = [(lambda n: lambda m: n + m)(i) for i in range(3)]
print([add(10) for add in adders])
value = 1
del value
try:
    value
except NameError as e:
    print("NameError:", e)
data = {"a": 1, "b": 2, "c": 3}
del data["a"]
items = [0, 1, 2, 3, 4, 5]
del items[1], items[::2]
print(data, items)


def shadow(len=len):
    return len("abc")


print(shadow(), shadow(lambda s: 99))
compose = lambda f, g: lambda x: f(g(x))  # noqa: E731
print(compose(str, abs)(-5), (lambda: "immediate")())
result = [counter, outer(), items]
