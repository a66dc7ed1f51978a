# error: OverflowError
print(float(10 ** 300))
x = float(10 ** 400)
