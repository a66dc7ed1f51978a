def outer():
    x = "outer"

    def middle():
        def inner():
            nonlocal x
            x = "changed by inner"
        inner()
        return x

    before = x
    got = middle()
    return before, got, x


print(outer())
result = outer()
