nested = [[1, 2], [3], [], [4, 5, 6]]
flat = [x for sub in nested for x in sub]
print(flat)
words = ["hi there", "general kenobi"]
print([ch for w in words for ch in w.split()])
result = flat
