print(repr(ValueError("x")), repr(KeyError("k")), repr(Exception()), repr(ZeroDivisionError("a", 1)))
try:
    1 / 0
except ZeroDivisionError as e:
    print(repr(e))
result = repr(RuntimeError("boom"))
