print(", ".join(str(i) for i in range(5)))
print("".join(c.upper() if i % 2 else c for i, c in enumerate("spongebob")))
print("-".join(w[:2] for w in ["alpha", "beta", "gamma"]))
result = "/".join(s for s in ["a", "", "b"] if s)
