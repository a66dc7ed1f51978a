values = [[], {}, "", 0, 0.0, None, "0", [0], {"": 0}, -1, 0.1, " ", (), (None,)]
for v in values:
    if v:
        print(repr(v), "truthy")
    else:
        print(repr(v), "falsy")
result = [bool(v) for v in values]
