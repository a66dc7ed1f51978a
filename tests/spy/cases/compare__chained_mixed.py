a, b, c = 1, 2, 3
print(a < b < c, a < b > c, a == 1 < b, a < c > b, 1 < 2 <= 2 < 3, 3 > 2 > 1 > 0 > -1)
print(a == b == c, a != b != a, 1 < 3 > 2 != 5)
result = [a < b < c, c > b > a, b < a < c]
