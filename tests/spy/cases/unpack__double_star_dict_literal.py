base = {"a": 1, "b": 2}
extra = {"b": 20, "c": 30}
print({**base, **extra})
print({**extra, **base})
print({"b": 0, **base, "z": 26})
print({**{}, **base})
result = {**base, "a": 100}
