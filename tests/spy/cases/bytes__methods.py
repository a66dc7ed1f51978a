b = b" a,b,c "
print(b.strip(), b.split(b","), b.strip().upper(), b.replace(b",", b";"))
print(b.find(b"b"), b.count(b","), b.startswith(b" a"), b.endswith(b"c"), b.hex())
print(b"-".join([b"x", b"y"]), b"abc".lower(), b"ABC".isupper())
result = b.strip().split(b",")
