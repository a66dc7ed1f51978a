print(b"\x00\xff\n\t'", b'"', b"'\"", b"\\", b"\x7f\x80")
print(repr(b"plain"), [b"in list"])
result = repr(b"\x01a")
