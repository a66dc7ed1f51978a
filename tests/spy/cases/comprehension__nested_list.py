table = [[i * j for j in range(1, 5)] for i in range(1, 4)]
for row in table:
    print(row)
ident = [[1 if r == c else 0 for c in range(3)] for r in range(3)]
print(ident)
result = table
