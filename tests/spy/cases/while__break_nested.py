found = []
i = 0
while i < 4:
    j = 0
    while True:
        if j > i:
            break
        found.append((i, j))
        j += 1
    i += 1
print(found)
result = len(found)
