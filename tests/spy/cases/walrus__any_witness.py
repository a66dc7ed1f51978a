data = [1, 3, 8, 2, 9]
if any((w := x) > 5 for x in data):
    print("first above 5:", w)
if all((v := x) < 9 for x in data):
    print("never")
else:
    print("first not below 9:", v)
result = [w, v]
