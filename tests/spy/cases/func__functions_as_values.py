def add(a, b):
    return a + b


def sub(a, b):
    return a - b


table = {"add": add, "sub": sub}
fns = [add, sub, add]
print([f(10, 3) for f in fns], table["sub"](1, 2))
alias = add
print(alias is add, alias(2, 2), add == sub)
result = [table[k](5, 5) for k in table]
