msgs = []
checks = [
    lambda: int("12x"),
    lambda: int("9", 8),
    lambda: [1, 2].index(5),
    lambda: len(5),
    lambda: (5).nope,
    lambda: undefined_thing,
    lambda: [1][3],
    lambda: {"a": 1}["b"],
    lambda: "x" * 1.5,
    lambda: chr(-1),
    lambda: ord("ab"),
    lambda: abs("x"),
    lambda: sum(["a"]),
    lambda: min([]),
]
for f in checks:
    try:
        f()
    except Exception as e:
        msgs.append(str(e))
for m in msgs:
    print(m)
result = len(msgs)
