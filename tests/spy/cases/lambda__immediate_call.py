print((lambda x: x * 2)(21))
print((lambda: "no args")())
print((lambda a, b=10: a + b)(5), (lambda a, b=10: a + b)(5, 1))
result = (lambda *xs: sum(xs))(1, 2, 3)
