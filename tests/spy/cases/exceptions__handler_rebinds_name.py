e = "before"
try:
    raise KeyError("x")
except KeyError as err:
    e = str(err)
print(e)
try:
    pass
except Exception as never:
    pass
print("ok")
result = e
