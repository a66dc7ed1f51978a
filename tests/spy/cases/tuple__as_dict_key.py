grid = {}
for x in range(3):
    for y in range(2):
        grid[(x, y)] = x * 10 + y
print(grid[(2, 1)], (1, 1) in grid, (5, 5) in grid, len(grid))
print(list(grid)[:3])
result = grid[1, 0]
