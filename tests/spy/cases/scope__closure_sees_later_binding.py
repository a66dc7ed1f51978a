def outer():
    def get():
        return value
    value = 1
    first = get()
    value = 2
    return first, get()


print(outer())
result = outer()
