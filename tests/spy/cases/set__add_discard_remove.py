s = {1, 2}
s.add(3)
s.add(2)
s.discard(1)
s.discard(42)
s.remove(3)
print(s, len(s))
s.add(7)
result = sorted(s)
