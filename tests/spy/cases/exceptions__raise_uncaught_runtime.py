# error: RuntimeError
def boom(n):
    if n == 0:
        raise RuntimeError("boom at the bottom")
    return boom(n - 1)


print("start")
boom(3)
