# error: KeyError
d = {}
d["a"] = 1
d["a"] += 1
d["b"] += 1
