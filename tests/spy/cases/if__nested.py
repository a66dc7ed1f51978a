def classify(x, y):
    if x > 0:
        if y > 0:
            return "Q1"
        else:
            if y == 0:
                return "x-axis+"
            return "Q4"
    elif x < 0:
        return "left"
    return "y-axis"


for p in [(1, 1), (1, 0), (1, -1), (-1, 5), (0, 3)]:
    print(p, classify(*p))
result = classify(2, -2)
