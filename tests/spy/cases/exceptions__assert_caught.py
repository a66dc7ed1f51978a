def check(v):
    try:
        assert v, f"falsy: {v!r}"
        return "ok"
    except AssertionError as e:
        return str(e)


print(check(1), check(0), check(""), check([]))
result = check(None)
