inf = float("inf")
print(1.0 // inf, -1.0 // inf, 5 % inf, inf / 1e308)
result = [1.0 // inf, -1.0 // inf]
