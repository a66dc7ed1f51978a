# error: KeyError
def get(d, k):
    try:
        return d[k]
    except KeyError:
        raise KeyError(f"no such setting: {k}") from None


print(get({"a": 1}, "a"))
get({}, "b")
