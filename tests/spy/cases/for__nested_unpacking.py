pairs = [(1, "a"), (2, "b"), (3, "c")]
for n, letter in pairs:
    print(n, letter)
for i, (n, letter) in enumerate(pairs):
    print(i, n * letter)
grid = [[1, 2], [3, 4]]
s = 0
for row in grid:
    for cell in row:
        s += cell
print(s)
result = s
