def counter():
    n += 1


log = []
try:
    counter()
except UnboundLocalError as e:
    log.append(["UnboundLocalError", str(e), isinstance(e, NameError)])
for exc in [TimeoutError("slow"), ConnectionError("down"), OSError("io"), ValueError("v")]:
    try:
        raise exc
    except (MemoryError, TimeoutError) as e:
        log.append(["timeout", repr(e)])
    except OSError as e:
        log.append(["os", repr(e), isinstance(e, OSError)])
    except BaseException as e:
        log.append(["base", repr(e), isinstance(e, Exception)])
try:
    try:
        raise KeyError("k")
    except BaseException:
        raise
except LookupError as e:
    log.append(["reraised", repr(e)])
print(log)
print(isinstance(TimeoutError("x"), OSError), isinstance(UnboundLocalError("x"), NameError))
print(repr(BaseException), repr(OSError), repr(MemoryError))
result = [len(log), str(TimeoutError("t"))]
