log = []


def run(x):
    try:
        log.append("try")
        if x:
            raise ValueError("v")
        log.append("no error")
    except ValueError:
        log.append("except")
    else:
        log.append("else")
    finally:
        log.append("finally")
    log.append("end")


run(False)
print(log)
log.clear()
run(True)
print(log)
result = log
