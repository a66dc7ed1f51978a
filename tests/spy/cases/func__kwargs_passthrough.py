def inner(a, b=0, *rest, flag=False, **extra):
    return [a, b, rest, flag, extra]


def wrapper(*args, **kwargs):
    kwargs.setdefault("flag", True)
    return inner(*args, **kwargs)


print(wrapper(1), wrapper(1, 2, 3, flag=False), wrapper(a=5, z=1))
result = wrapper(0, 0, 0, k="v")
