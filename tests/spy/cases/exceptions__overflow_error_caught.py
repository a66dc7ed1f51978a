try:
    float(10 ** 400)
except OverflowError as e:
    print("overflow:", e)
try:
    int(float("inf"))
except OverflowError as e:
    print("overflow:", e)
result = "ok"
