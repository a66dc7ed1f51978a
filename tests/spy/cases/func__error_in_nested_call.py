# error: KeyError
def lookup(d, k):
    return d[k]


def process(d):
    total = 0
    for k in ["a", "b", "c"]:
        total += lookup(d, k)
    return total


print(process({"a": 1, "b": 2, "c": 3}))
print(process({"a": 1, "b": 2}))
