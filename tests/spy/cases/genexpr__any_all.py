nums = [2, 4, 6, 7]
print(any(n % 2 for n in nums), all(n % 2 == 0 for n in nums), all(n > 0 for n in nums))
print(any(x > 100 for x in []), all(x > 100 for x in []))
result = [any(n > 6 for n in nums), all(n < 10 for n in nums)]
