matrix = {r: {c: r * c for c in range(1, 4)} for r in range(1, 3)}
print(matrix)
print(matrix[2][3])
result = matrix
