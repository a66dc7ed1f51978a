x = 17
print(x % 5, -x % 5, x % -5, 7.5 % 2, x % 5 % 3)
print(x % (3 + 2), (x + 1) % (x - 10), 2**10 % 1000)
n = 100
n %= 7
print(n)
values = [10, 20]
values[1] %= 6
print(values)
total = 0
for i in range(20):
    if i % 3 == 0 or i % 5 == 0:
        total += i
print(total)
result = [n, values, total]
