a, *b, c = range(6)
print(a, b, c)
*head, last = "xyz"
first, *rest = [1]
print(head, last, first, rest)
result = [a, b, c]
