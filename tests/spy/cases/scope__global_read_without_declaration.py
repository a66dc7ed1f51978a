rate = 0.5


def cost(n):
    return n * rate


print(cost(10))
rate = 2
print(cost(10))
result = cost(3)
