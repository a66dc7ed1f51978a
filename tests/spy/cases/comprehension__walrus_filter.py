def cost(x):
    return x * x - 10


data = [1, 2, 3, 4, 5]
kept = [y for x in data if (y := cost(x)) > 0]
print(kept, y)
result = kept
