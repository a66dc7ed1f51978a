big = 10 ** 30 + 7
print(big // 12345, big % 12345)
print(-big // 12345, -big % 12345)
print(big // -(10 ** 15))
result = [big // 97, big % 97]
