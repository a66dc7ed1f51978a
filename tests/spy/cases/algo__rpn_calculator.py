OPS = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
}


def rpn(expr):
    stack = []
    for tok in expr.split():
        if tok in OPS:
            b, a = stack.pop(), stack.pop()
            stack.append(OPS[tok](a, b))
        else:
            stack.append(float(tok) if "." in tok else int(tok))
    if len(stack) != 1:
        raise ValueError(f"malformed: {expr!r}")
    return stack[0]


for e in ["3 4 +", "5 1 2 + 4 * + 3 -", "2 3 4 * +", "1 0 /", "1 2", "2.5 2 *", "+"]:
    try:
        print(e, "=", rpn(e))
    except ZeroDivisionError as err:
        print(e, "-> division error:", err)
    except ValueError as err:
        print(e, "->", err)
    except IndexError as err:
        print(e, "-> stack underflow:", err)
result = rpn("10 2 8 * + 3 -")
