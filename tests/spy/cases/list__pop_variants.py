a = list(range(8))
print(a.pop(), a.pop(0), a.pop(-2), a.pop(2), a)
result = a
