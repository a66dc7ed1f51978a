log = []
try:
    try:
        [][1]
    except KeyError:
        log.append("inner KeyError")
    finally:
        log.append("inner finally")
except IndexError as e:
    log.append("outer " + str(e))
finally:
    log.append("outer finally")
print(log)
result = log
