data = [2, 4, 4, 4, 5, 5, 7, 9]
n = len(data)
mean = sum(data) / n
var = sum((x - mean) ** 2 for x in data) / n
std = var ** 0.5
med = sorted(data)[n // 2 - 1 : n // 2 + 1]
print(f"n={n} mean={mean} var={var} std={std} median={sum(med) / 2}")
mode = max(set(data), key=data.count)
print("mode", mode)
result = [mean, var, std]
