def make(*, name, size):
    return name * size


print(make(name="ab", size=2), make(size=3, name="x"))
result = make(name="-", size=5)
