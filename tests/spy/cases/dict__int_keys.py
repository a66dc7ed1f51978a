squares = {}
for i in range(-3, 4):
    squares[i] = i * i
print(squares)
print(squares[-2], sum(squares.values()), sorted(squares, reverse=True))
result = squares
