msgs = []
for call in [
    lambda: "a".encode("utf-8", "strict", "x"),
    lambda: "a".encode(foo=1),
    lambda: "a".encode("utf-8", encoding="utf-8"),
    lambda: "a".encode(1),
    lambda: "a".encode("utf-8", 1),
    lambda: "a".encode(None),
    lambda: "a".encode("utf-8", errors=None),
    lambda: "a".encode("utf-8", "strict", errors="x"),
    lambda: b"a".decode(1),
    lambda: b"a".decode("utf-8", "strict", "x"),
    lambda: b"a".decode(foo=1),
    lambda: b"a".decode(errors=3),
    lambda: b"\xff".decode("utf-8"),
    lambda: "\xe9".encode("ascii"),
]:
    try:
        call()
    except (TypeError, UnicodeError) as e:
        msgs.append(repr(e))
for m in msgs:
    print(m)
text = "h\xe9llo \u4e00 \U0001f600"
for enc in ["utf-8", "utf-16", "utf-16-le", "utf-32", "utf-32-be", "latin-1"]:
    try:
        data = text.encode(enc)
        print(enc, len(data), data.decode(enc) == text)
    except UnicodeEncodeError as e:
        print(enc, "error")
print(text.encode("ascii", "xmlcharrefreplace"), text.encode("ascii", "backslashreplace"))
print(b"a\xffb".decode("utf-8", "replace"), b"a\xffb".decode("utf-8", "backslashreplace"))
print("a".encode(encoding="utf-16", errors="strict"), b"abc".decode(errors="ignore"))
result = len("x".encode("utf-32"))
