a = [1]
b = a
c = [1]
print(a is b, a is c, a == c, a is not c, None is None)
t = True
print(t is True, (1 == 1) is True)
result = [a is b, a is c]
