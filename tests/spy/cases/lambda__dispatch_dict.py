ops = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
}
for sym in ops:
    print(sym, ops[sym](12, 4))
result = [ops["+"](1, 2), ops["/"](1, 4)]
