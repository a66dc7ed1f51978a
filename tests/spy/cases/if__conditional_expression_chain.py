def size(n):
    return "small" if n < 10 else "medium" if n < 100 else "large"


print(size(5), size(50), size(500))
x = 0
y = 1 if x else 2 if not x else 3
print(y, (lambda: 1)() if True else 0)
result = [size(9), size(10)]
