total = 0
i = 0
while True:
    i += 1
    if i % 2:
        continue
    total += i
    if total > 20:
        break
print(i, total)
result = total
