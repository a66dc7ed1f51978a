nums = [1, 2, 3, 4, 5, 6]
print(list(map(lambda x: x * x, nums)))
print(list(filter(lambda x: x % 2 == 0, nums)))
print(list(map(lambda a, b: a * b, nums, [10, 20, 30])))
result = list(map(lambda x: x + 1, filter(lambda x: x > 3, nums)))
