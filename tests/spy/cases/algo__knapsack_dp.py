items = [("map", 9, 150), ("compass", 13, 35), ("water", 153, 200), ("sandwich", 50, 160),
         ("glucose", 15, 60), ("tin", 68, 45), ("banana", 27, 60), ("apple", 39, 40)]
cap = 200
best = [0] * (cap + 1)
choice = [[] for _ in range(cap + 1)]
for name, w, v in items:
    for c in range(cap, w - 1, -1):
        if best[c - w] + v > best[c]:
            best[c] = best[c - w] + v
            choice[c] = choice[c - w] + [name]
print(best[cap], choice[cap])
result = best[cap]
