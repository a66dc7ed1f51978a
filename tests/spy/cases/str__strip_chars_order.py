print("abcXcba".strip("abc"), "<<a>>".strip("<>"), "  ".strip(), "xyx".strip("x"))
result = "..a..".strip(".")
