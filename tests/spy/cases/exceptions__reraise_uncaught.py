# error: KeyError
d = {"a": 1}
try:
    print(d["a"])
    print(d["zz"])
except KeyError:
    print("logging and re-raising")
    raise
