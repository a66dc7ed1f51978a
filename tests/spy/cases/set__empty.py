s = set()
print(s, len(s), bool(s), s == set())
s.add(0)
print(s, bool(s))
result = [len(set()), sorted(s)]
