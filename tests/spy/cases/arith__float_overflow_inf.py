big = 1e308
print(big * 10, -big * 10, big + big)
inf = big * 10
print(inf - 1, inf > 10 ** 300, -inf < -(10 ** 300))
print(inf - inf == inf - inf)
result = [inf > 1, big * 10 == inf]
