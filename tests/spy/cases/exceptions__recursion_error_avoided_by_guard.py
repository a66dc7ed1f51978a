def depth(n, limit=50):
    if n >= limit:
        raise ValueError(f"too deep at {n}")
    return depth(n + 1, limit)


try:
    depth(0)
except ValueError as e:
    print(e)
result = "guarded"
