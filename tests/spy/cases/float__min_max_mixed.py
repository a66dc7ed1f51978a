print(max(1, 2.0), min(3, 3.0), max(3.0, 3), min(-0.0, 0.0))
print(max([1.5, 2, 1.99]), min(1e-9, 0))
result = [max(1, 2.0), min(3, 3.0), max(3.0, 3)]
