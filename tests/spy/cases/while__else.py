n = 0
while n < 3:
    n += 1
else:
    print("while done", n)
m = 10
while m > 0:
    m -= 4
    if m < 5:
        break
else:
    print("not printed")
print("m", m)
result = [n, m]
