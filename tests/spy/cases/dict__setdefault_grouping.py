words = ["apple", "avocado", "banana", "blueberry", "cherry", "apricot"]
groups = {}
for w in words:
    groups.setdefault(w[0], []).append(w)
print(groups)
print(groups.setdefault("a", "unused"), groups.setdefault("z"))
result = groups
