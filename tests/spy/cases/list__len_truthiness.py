a = []
print(len(a), bool(a), not a)
a.append(0)
print(len(a), bool(a), a == [0])
result = [len([]), len([[]]), len([[], []])]
