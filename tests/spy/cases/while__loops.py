n = 27
steps = 0
while n != 1:
    if n % 2 == 0:
        n = n // 2
    else:
        n = 3 * n + 1
    steps += 1
print("collatz steps", steps)
i = 0
while True:
    i += 1
    if i < 5:
        continue
    break
print(i)
k = 0
while k < 3:
    k += 1
else:
    print("while else", k)
result = steps
