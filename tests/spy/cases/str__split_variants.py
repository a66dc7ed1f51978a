s = "a,b,,c"
print(s.split(","), s.split(",", 1), s.rsplit(",", 1))
print("  many   spaces here ".split())
print("a b c".split(maxsplit=1), "a b c".rsplit(maxsplit=1), "x".split(sep=","))
print("".split(), "".split(","), "a\tb\nc".split())
result = s.split(",")
