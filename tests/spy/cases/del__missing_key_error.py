# error: KeyError
d = {"a": 1}
del d["a"]
del d["a"]
