items = [1, "a", None]
print(f"{items}")
print(f"{(1,)} {(1, 2)} { {'a': 1} } {[]} {()}")
result = f"{items} {len(items)}"
