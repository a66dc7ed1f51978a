try:
    x = 1 / 0
    print("not reached")
except ZeroDivisionError as e:
    print("caught:", e)
print("after")
result = str(e) if False else "ok"
