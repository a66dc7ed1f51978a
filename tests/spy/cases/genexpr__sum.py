print(sum(x * x for x in range(10)))
print(sum(1 for c in "hello world" if c == "o"))
print(sum((x for x in [0.5, 0.25]), 10))
result = sum(len(w) for w in ["ab", "cde"])
