text = "the quick brown fox jumps over the lazy dog the end"
counts = {}
for word in text.split():
    counts[word] = counts.get(word, 0) + 1
print(counts)
top = sorted(counts.items(), key=len)
print(max(counts.values()), min(counts.keys()))
by_len = {}
for word in counts:
    n = len(word)
    if n not in by_len:
        by_len[n] = []
    by_len[n].append(word)
print(by_len)
print(dict([("x", 1), ("y", 2)]), dict(a=1, b=2), {1: "one", (1, 2): "pair"})
result = counts
