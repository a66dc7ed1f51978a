n = 2 ** 100
print(f"{n:,}")
print(f"{n:x}")
print(f"{n:.3e}")
print(f"{-n:_}")
result = f"{n:e}"
