def outer(a):
    def middle(b):
        def inner(c):
            return a + b + c
        return inner(b * 10)
    return middle(a * 10)


print(outer(1), outer(2))
result = outer(3)
