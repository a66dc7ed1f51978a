values = [4, -2, 9, 0, 7]
print(len(values), sum(values), min(values), max(values), abs(-7))
print(min(3, 1, 2), max("apple", "pear"), sum([0.5, 0.25]), sum([1, 2], 10))
print(max(values, key=abs), min([], default="empty"))
print(sorted(values), sorted(values, reverse=True))
print(int("42") + 1, int("ff", 16), float("2.5") * 2, bool(0), bool("0"))
print(round(1234.5678, -2), round(7.25, 1), round(9))
result = [sum(values), max(values)]
