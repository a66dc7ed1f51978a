data = [1, 2, 3]
g = (x * 10 for x in data)
data.append(4)
print(list(g))
result = data
