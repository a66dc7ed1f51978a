s = "é'x"
print(f"{s!r} {s!a} {s!s} {s}")
print(f"[{s!r:>10}] [{'ab'!r:^8}]")
print(f"{[1, 'a']!s} {None!r} {3.5!r}")
result = f"{s!a}"
