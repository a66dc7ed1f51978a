words = ["pear", "fig", "banana"]
print(max(len(w) for w in words), min(w[-1] for w in words))
print(max((len(w), w) for w in words), min((x for x in [3, 1, 2]), default=None))
print(max((w for w in words), key=len))
result = min(abs(x - 5) for x in [1, 7, 12])
