names = ["a", "b", "c", "d"]
nums = [1, 2]
for n, v in zip(names, nums):
    print(n, v)
print(list(zip(names, nums, "XYZ")), list(zip()), list(zip([1])))
result = list(zip(*[(1, "a"), (2, "b")]))
