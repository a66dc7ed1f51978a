a = [10, 20, 30, 40]
a[-1] = 99
a[-4] += 1
print(a, a[-2])
result = a
