squares = [x * x for x in range(8)]
print(squares)
print([c.upper() for c in "abc"], [n for n in []])
result = squares
