points = {(0, 0), (1, 2), (0, 0), (2, 1)}
print(len(points), (1, 2) in points, sorted(points))
result = sorted(points)
