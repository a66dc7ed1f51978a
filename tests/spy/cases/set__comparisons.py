a = {1, 2}
b = {1, 2, 3}
print(a < b, a <= b, b > a, a < a, a <= a, a == {2, 1}, a != b, b >= {3})
result = [a < b, b < a]
