total = 0


def outer():
    def add(n):
        global total
        total += n
    for i in range(5):
        add(i)
    return total


print(outer(), total)
result = total
