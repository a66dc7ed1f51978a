n = 1
f = lambda x, m=n: x * m
n = 100
print(f(5), f(5, n))
result = f(3)
