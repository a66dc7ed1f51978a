vals = [1, 1.5, "s", b"b", [1], (1,), {"k": 1}, {1}, None, True]
for v in vals:
    print(repr(v), isinstance(v, int), isinstance(v, float), isinstance(v, str), isinstance(v, bytes), isinstance(v, list), isinstance(v, tuple), isinstance(v, dict), isinstance(v, set), isinstance(v, bool))
result = isinstance(None, int)
