names = ["x", "_y", "2z", "has space", "for", "café", "a-b"]
print([n.isidentifier() for n in names])
result = [n for n in names if n.isidentifier()]
