x = 10
x += 5
x -= 3
x *= 2
x //= 5
x %= 3
x **= 4
print(x)
y = 7.5
y /= 2
print(y)
s = "ab"
s += "cd"
s *= 2
print(s)
lst = [1]
lst += [2, 3]
print(lst)
result = [x, y, s, lst]
