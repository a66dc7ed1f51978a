def convert(s):
    try:
        return int(s)
    except ValueError as e:
        raise RuntimeError("conversion failed") from e


try:
    convert("x")
except RuntimeError as e:
    print("caught", e, e.args)
result = "done"
