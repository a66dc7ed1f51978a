a = [1, 2, 3]
b = "abc"
c = (True, False)
print(list(zip(a, b)), list(zip(a, b, c)), dict(zip(b, a)))
pairs = [(1, "x"), (2, "y")]
nums, chars = zip(*pairs)
print(nums, chars)
result = list(zip(range(3), range(10, 13)))
