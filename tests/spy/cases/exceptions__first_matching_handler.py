def check(f):
    try:
        f()
    except KeyError:
        return "KeyError"
    except LookupError:
        return "LookupError"
    except Exception:
        return "Exception"
    return "none"


print(check(lambda: {}["k"]), check(lambda: [][0]), check(lambda: 1 / 0), check(lambda: 1))
result = check(lambda: "abc".index("z"))
