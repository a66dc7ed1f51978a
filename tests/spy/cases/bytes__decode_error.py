# error: UnicodeDecodeError
print(b"ok".decode())
x = b"\xff\xfe".decode("utf-8")
