n = 5
steps = []
while (n := n - 1) > 0:
    steps.append(n)
print(steps, n)
result = steps
