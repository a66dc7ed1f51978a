s = "héllo wörld"
print(len(s), s.upper(), s[1], s[::-1])
print(len("日本語"), "日本語"[1], "ß".upper(), len("ß".upper()))
result = [len(s), s.title()]
