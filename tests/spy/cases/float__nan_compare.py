nan = float("nan")
print(nan == nan, nan != nan, nan < 1, nan > 1, nan == 0)
x = [nan]
print(nan in x)
result = [nan == nan, nan != nan]
