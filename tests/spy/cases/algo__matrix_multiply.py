def matmul(a, b):
    return [[sum(x * y for x, y in zip(row, col)) for col in zip(*b)] for row in a]


def identity(n):
    return [[int(i == j) for j in range(n)] for i in range(n)]


a = [[1, 2], [3, 4]]
b = [[5, 6], [7, 8]]
print(matmul(a, b), matmul(a, identity(2)) == a)
m = identity(2)
fib = [[1, 1], [1, 0]]
for _ in range(30):
    m = matmul(m, fib)
print(m[0][1])
result = matmul(b, a)
