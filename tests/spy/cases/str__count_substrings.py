s = "aaaa"
print(s.count("a"), s.count("aa"), s.count(""), s.count("a", 1), s.count("a", 1, 3))
print("mississippi".count("ss"), "mississippi".count("i"))
result = "abcabc".count("bc")
