results = []
for f in [lambda: 1 / 0, lambda: [][0], lambda: {}["k"], lambda: int("x"), lambda: "a" + 1, lambda: None.upper()]:
    try:
        f()
    except Exception as e:
        results.append(str(e))
for r in results:
    print(r)
result = results
