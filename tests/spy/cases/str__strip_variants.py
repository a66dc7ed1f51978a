s = "xxhello worldyy"
print(s.strip("xy"), s.lstrip("x"), s.rstrip("y"))
print(repr("\t\n  pad \r\n".strip()), repr("  a  ".lstrip()), repr("  a  ".rstrip()))
print("www.example.com".strip("cmowz."))
result = s.strip("xy")
