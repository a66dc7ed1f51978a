b = b"AZaz09"
print(list(b), [x for x in b if x >= 97], sum(b))
for i, x in enumerate(b"hi"):
    print(i, x)
result = list(b"\x00\xff")
