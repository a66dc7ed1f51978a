def parse_all(items):
    good, bad = [], []
    for it in items:
        try:
            good.append(float(it))
        except ValueError:
            bad.append(it)
    return good, bad


print(parse_all(["1.5", "x", "2e3", "", " 4 "]))
result = parse_all(["nan?", "1"])
