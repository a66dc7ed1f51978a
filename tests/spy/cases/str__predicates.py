tests = ["123", "abc", "abc123", "   ", "ABC", "abc", "Title Case", "", "½", "٣", "a b"]
for t in tests:
    print(repr(t), t.isdigit(), t.isalpha(), t.isalnum(), t.isspace(), t.isupper(), t.islower(), t.istitle(), t.isdecimal(), t.isnumeric())
result = ["x1".isidentifier(), "1x".isidentifier(), "é".isascii(), "\t".isprintable()]
