s = "héllo €"
b = s.encode("utf-8")
print(b, len(s), len(b))
print(b.decode("utf-8") == s, b.decode())
print("abc".encode(), "é".encode("latin-1"), b"caf\xc3\xa9".decode("utf-8"))
result = b
