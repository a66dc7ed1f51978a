try:
    raise ValueError
except ValueError as e:
    print("args:", e.args, repr(str(e)))
result = "ok"
