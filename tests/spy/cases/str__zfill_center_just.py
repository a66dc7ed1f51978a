print("42".zfill(5), "-42".zfill(6), "+7".zfill(4), "abc".zfill(2))
print("[" + "ab".center(7) + "]", "[" + "ab".center(7, "*") + "]", "[" + "abc".center(6, "-") + "]")
print("[" + "x".ljust(4, ".") + "]", "[" + "x".rjust(4, ".") + "]", "[" + "long".ljust(2) + "]")
result = ["7".zfill(3), "ab".center(5, "*")]
