def show(a, b, c):
    return f"a={a} b={b} c={c}"


print(show(1, 2, 3), show(c=3, a=1, b=2), show(1, c=3, b=2))
result = show(b="B", c="C", a="A")
