d = {"s": "it's", "q": 'say "hi"', "n": None, "t": (1,), "e": {}, "l": [{"a": []}], 2: 2.5}
print(d)
print(repr(d) == str(d))
result = repr(d)
