b = b"hello world"
print(b.upper(), b.split(), b.replace(b"o", b"0"), b[0], b[1:3], b.find(b"o"), b.count(b"l"), len(b))
print(b"-".join([b"a", b"b"]), b.hex(), b.decode("utf-8"), b.startswith(b"he"), b.center(15, b"*"))
print(bytes([104, 105]) + b"!", b"ab" * 3, b"x" in b"xyz", list(b"ab"), b.strip(b"hd"), b.zfill(13))
s = "Hello, World"
print(s.encode("utf-8"), s.encode("ascii"), "é".encode("latin-1"), "ü".encode("utf-16"), "x".encode())
print(s.center(20, "*"), s.ljust(15, "."), s.rjust(15), "42".zfill(5), "a\tb".expandtabs(4), s.replace("l", "L", 2))
print(", ".join(["a", "b"]), s.split(", "), s.rsplit("o", 1), "a\nb\r\nc".splitlines(), s.partition(","))
try:
    "x".encode("rot13")
except LookupError as e:
    print("LookupError")
try:
    b"\xff".decode("utf-8")
except UnicodeDecodeError as e:
    print("UnicodeDecodeError:", e)
try:
    b"\xff".decode("utf-8")
except ValueError as e:
    print("ValueError caught too:", repr(e)[:20])
print(b"\xff".decode("utf-8", "replace"), "é".encode("ascii", "ignore"), "é".encode("ascii", "xmlcharrefreplace"))
print(str(b"abc", "ascii"), bytes("ab", encoding="utf-8"), b"A" < b"B", b"abc"[::-1], b"%d" if False else "ok")
result = [b.upper(), s.encode()]
