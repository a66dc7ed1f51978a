x = 5
print(1 < x < 10, 1 < x > 10, x == 5 != 6)
print(1 <= 1 <= 2 < 3)
print("abc" < "abd", [1, 2] < [1, 3], (1, 2) == (1, 2))
print(x is None, x is not None, None is None)
print(3 in [1, 2, 3], "a" not in "xyz", "k" in {"k": 1}, 2 in (1, 2))
result = 0 < x <= 5
