def depth_sum(n):
    if n == 0:
        return 0
    return n + depth_sum(n - 1)


print(depth_sum(90))
result = depth_sum(95)
