s = "hello wORLD it's 3rd"
print(s.title(), s.capitalize(), s.swapcase(), s.upper(), s.lower())
print("Straße".casefold(), "Straße".upper(), "ǅ".lower())
result = [s.title(), s.capitalize()]
