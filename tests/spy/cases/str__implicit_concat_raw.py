s = "abc" "def" 'ghi'
r = r"\n\t"
t = """line one
line two"""
print(s, len(r), r, t.splitlines())
result = [s, r]
