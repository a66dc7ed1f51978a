print(list(map(str, [1, 2, 3])), list(map(int, "123")), list(map(len, ["a", "bb"])))
print(list(map(abs, [-1, 2, -3])), list(map(lambda a, b: a + b, [1, 2, 3], [10, 20])))
print(list(map(float, ["1.5", "2"])), tuple(map(bool, [0, 1])))
def sq(x):
    return x * x


result = list(map(sq, range(5)))
