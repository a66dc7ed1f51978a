print(b"a" < b"b", b"abc" < b"abd", b"a" == b"a", "a" == b"a", b"" < b"\x00")
print(b"bc" in b"abcd", 98 in b"abc", 120 in b"abc", b"" in b"x")
result = [b"x" != b"y", b"a" + b"b" == b"ab"]
