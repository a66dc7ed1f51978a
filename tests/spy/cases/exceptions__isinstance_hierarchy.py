def kind(f):
    try:
        f()
    except Exception as e:
        return [isinstance(e, LookupError), isinstance(e, ArithmeticError), isinstance(e, ValueError), isinstance(e, Exception)]
    return None


print(kind(lambda: {}[1]))
print(kind(lambda: [][1]))
print(kind(lambda: 1 % 0))
print(kind(lambda: int("z")))
result = kind(lambda: None)
