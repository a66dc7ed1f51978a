adder = lambda n: lambda x: x + n
add5 = adder(5)
add10 = adder(10)
print(add5(1), add10(1), adder(0)(0))
compose = lambda f, g: lambda x: f(g(x))
inc_then_double = compose(lambda x: x * 2, lambda x: x + 1)
print(inc_then_double(3))
result = [add5(2), inc_then_double(0)]
