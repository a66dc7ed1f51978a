x = "outer"
squares = [x * 2 for x in range(3)]
print(x, squares)
total = {x: 0 for x in "ab"}
print(x, total)
result = x
