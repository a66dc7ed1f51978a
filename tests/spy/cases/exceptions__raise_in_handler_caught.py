log = []
try:
    try:
        1 / 0
    except ZeroDivisionError:
        log.append("first handler")
        raise ValueError("second")
except ValueError as e:
    log.append("outer got " + str(e))
print(log)
result = log
