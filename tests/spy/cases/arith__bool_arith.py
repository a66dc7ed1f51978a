print(True + True, True * 10, False - 1, -True, ~True)
flags = [True, False, True, True]
print(sum(flags), True == 1, False == 0)
result = sum(flags) + True
