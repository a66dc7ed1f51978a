grid = [[1, 2], [3, 4]]
shallow = grid.copy()
shallow[0].append(99)
shallow[1] = ["new"]
print(grid, shallow)
deep = [row[:] for row in grid]
deep[0][0] = -1
print(grid[0][0], deep[0][0])
result = grid
