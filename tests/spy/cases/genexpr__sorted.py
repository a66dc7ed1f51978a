words = ["banana", "Apple", "cherry"]
print(sorted(w.lower() for w in words))
print(sorted((len(w), w) for w in words))
result = sorted((x % 5 for x in range(12)), reverse=True)
