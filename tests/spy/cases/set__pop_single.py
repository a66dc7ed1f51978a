s = {42}
x = s.pop()
print(x, s, len(s))
result = x
