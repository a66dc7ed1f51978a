parts = []
for i in range(1000):
    parts.append(str(i % 10))
s = "".join(parts)
print(len(s), s[:15], s[-5:], s.count("7"))
result = len(s)
