name = "Ada"
pi = 3.14159265
n = 1234567
print(f"Hello {name}!")
print(f"{pi:.2f} {pi:10.3f}| {n:,} {n:>12}| {n:<12}| {n:^12}|")
print(f"{42:08b} {255:x} {255:#X} {0.25:.1%} {1e6:e}")
print(f"{name!r} {name!s} {[1, 2]} {{braces}}")
width = 7
print(f"{name:>{width}}|{pi:.{2}f}")
print(f"{'nested ' + name.upper()}")
d = {"k": [1, 2]}
print(f"d={d} first={d['k'][0]} len={len(d['k'])}")
result = f"{n:,}"
