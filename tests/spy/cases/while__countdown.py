n = 5
out = []
while n:
    out.append(n)
    n -= 1
print(out, n)
result = out
