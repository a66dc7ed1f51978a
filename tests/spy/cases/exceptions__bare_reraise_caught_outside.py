log = []


def risky():
    try:
        return {}["missing"]
    except KeyError:
        log.append("logged")
        raise


try:
    risky()
except KeyError as e:
    log.append("outer " + str(e))
print(log)
result = log
