print(sum([0.1] * 10), sum([0.1] * 10) == 1.0)
total = 0.0
for i in range(10):
    total += 0.1
print(total)
result = total
