out = []
for i in range(10):
    if i % 3 == 0:
        continue
    if i == 8:
        break
    out.append(i)
print(out)
result = out
