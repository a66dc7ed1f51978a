total = 0
for i in range(10):
    if i % 2 == 0:
        continue
    if i > 7:
        break
    total += i
print(total)
for i in range(3):
    pass
else:
    print("no break", i)
for i in range(3):
    if i == 1:
        break
else:
    print("never")
found = None
for word in ["apple", "banana", "cherry"]:
    if word.startswith("b"):
        found = word
        break
print(found)
result = total
