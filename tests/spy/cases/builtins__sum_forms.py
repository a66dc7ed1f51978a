print(sum([1, 2, 3]), sum([1, 2], 10), sum([0.5, 0.25]), sum(range(101)), sum([]), sum((), 5))
print(sum([[1], [2]], []), sum([True, True, False]), sum([1, 2.5]), sum([10 ** 20, 1]))
result = sum(x * x for x in range(5))
