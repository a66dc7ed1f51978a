print(int(2.9), int(-2.9), int(1e20), int(-0.5), int(0.99999))
print(int(1e16 + 1), int(2.5e-3))
result = [int(2.9), int(-2.9), int(1e20)]
