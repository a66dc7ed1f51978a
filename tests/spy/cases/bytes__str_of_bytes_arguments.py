msgs = []
for call in [
    lambda: str(b"x", None),
    lambda: str(b"x", "utf-8", None),
    lambda: str(b"x", encoding=None),
    lambda: str(1, 2, 3, 4),
    lambda: str(foo=1),
    lambda: str(1, "utf-8"),
    lambda: str(1, encoding=2),
    lambda: str(b"x", errors="strict", encoding=1),
    lambda: bytes("a", None),
    lambda: bytes("a", "utf-8", None),
    lambda: bytes(1, 2, 3, 4),
    lambda: bytes(foo=1),
    lambda: bytes("a", "utf-8", encoding="q"),
    lambda: bytes(1, "utf-8"),
    lambda: bytes(1, errors="strict"),
    lambda: bytes("x", encoding="utf-8", source=1),
    lambda: bytes(encoding="utf-8"),
    lambda: bytes("a"),
]:
    try:
        call()
    except TypeError as e:
        msgs.append(str(e))
for m in msgs:
    print(m)
print(str(b"h\xc3\xa9", "utf-8"), str(b"x", errors="strict", encoding="ascii"))
print(str(encoding="utf-8"), str(errors="x"), repr(str()))
print(bytes("h\xe9", "utf-8"), bytes(source="a", encoding="utf-8"), bytes(3), bytes())
x = str(b"x", "utf-8", encoding="q")
