line = []
for i in range(5):
    line.append(str(i))
print(*line, end=" <end>\n")
print("a", "b", end="\n\n")
print("x", end="!\n")
print("multi", "line", sep="\n", end="\n")
print("tail", end="\n\n\n")
print(end="\n")
result = len(line)
