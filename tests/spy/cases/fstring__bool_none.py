print(f"{True} {False} {None}")
print(f"[{True:>6}] [{False:d}] [{True:<3}] [{None!s:>6}]")
result = f"{True:+d}"
