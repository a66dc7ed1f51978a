log = []


def risky(kind):
    if kind == "value":
        raise ValueError("bad value")
    if kind == "key":
        return {}["missing"]
    if kind == "zero":
        return 1 / 0
    if kind == "type":
        return "a" + 1
    return "ok"


for kind in ["value", "key", "zero", "type", "none"]:
    try:
        out = risky(kind)
    except (ValueError, KeyError) as e:
        log.append(("lookup-or-value", repr(e), str(e)))
    except ArithmeticError as e:
        log.append(("arith", repr(e)))
    except Exception as e:
        log.append(("other", e.args))
    else:
        log.append(("else", out))
    finally:
        log.append(("finally", kind))
print(log)


def chain():
    try:
        int("x")
    except ValueError as e:
        raise RuntimeError("wrapped") from e


try:
    chain()
except RuntimeError as e:
    print("caught", e, repr(e))


def reraise():
    try:
        [][1]
    except IndexError:
        log.append("saw index")
        raise


try:
    reraise()
except LookupError as e:
    print("outer", repr(e))

try:
    try:
        raise KeyError("k")
    finally:
        print("inner finally")
except KeyError as e:
    print("key", e)


def bare():
    try:
        return 1 / 0
    except:  # noqa: E722
        return "bare caught"


print(bare())

e = None
try:
    raise TypeError("first", 2)
except TypeError as err:
    e = err
print(e.args, str(e), repr(e), isinstance(e, TypeError), isinstance(e, Exception))
print(isinstance(e, (ValueError, KeyError)), isinstance(ZeroDivisionError(), ArithmeticError))


def nested(n):
    try:
        if n == 0:
            raise StopIteration("done")
        return nested(n - 1)
    except StopIteration as s:
        return f"stopped at {n}: {s}"


print(nested(3))

assert 1 + 1 == 2, "math"
try:
    assert 1 > 2, "one is not bigger"
except AssertionError as a:
    print("assert:", a)
try:
    assert []
except AssertionError as a:
    print("empty assert:", repr(a))

try:
    raise NotImplementedError
except NotImplementedError as n:
    print("class raised:", repr(n))
result = log
