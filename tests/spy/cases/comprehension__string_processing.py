text = "The Quick brown FOX jumps"
print([w.lower() for w in text.split() if w[0].isupper()])
print("".join([c for c in text if c.isupper()]))
print({w: w[::-1] for w in text.lower().split()[:2]})
result = [len(w) for w in text.split()]
