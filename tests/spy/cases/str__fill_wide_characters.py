for fill in [" ", "\xe9", "\u4e00", "\U0001f600"]:
    for s in ["ab", "\xe9", "\u4e00\u4e01"]:
        parts = [s.center(7, fill), s.ljust(6, fill), s.rjust(5, fill)]
        print(parts, [len(p) for p in parts])
print(b"ab".center(6, b"*"), b"x".ljust(3, b"-"), "7".zfill(4), "x".center(1, "\u4e00"))
print(repr("\x00\x01\x7f\t\n\r\\'\""), repr(b"\x00\x7f\xff\t'\""), ascii("\U0001f600\xe9"))
print(repr("\x00" * 3 + "\ud800"), len(repr("\x00" * 100)), len(repr(b"\x00" * 100)))
result = [len(f"{b'ab'}"), f"{b'x'!r}", str(b"\x00"), format(b"y"), f"{b'z'} {b'w'}"]
