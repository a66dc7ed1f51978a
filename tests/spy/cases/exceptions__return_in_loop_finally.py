def f():
    log = []
    for i in range(3):
        try:
            if i == 1:
                return log
            log.append(i)
        finally:
            log.append(f"f{i}")
    return log


print(f())
result = f()
