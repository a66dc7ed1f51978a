def attempt(x):
    log = []
    try:
        v = 10 // x
    except ZeroDivisionError:
        log.append("except")
    else:
        log.append(f"else {v}")
    log.append("after")
    return log


print(attempt(2), attempt(0))
result = attempt(5)
