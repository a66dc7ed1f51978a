# error: KeyError
try:
    x = 1
except Exception:
    print("no")
else:
    print("in else")
    y = {}["else-key"]
