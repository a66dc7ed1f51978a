x: int
y: list = [1, 2]
counts: dict = {}
counts["a"]: int = 5


def deco(fn):
    def wrapper(*args, **kwargs):
        return ("wrapped", fn(*args, **kwargs))

    return wrapper


@deco
def hello(name, punct="!"):
    return "hello " + name + punct


print(hello("you"), hello("me", punct="?"), y, counts)
global_total = 0


def add_to_total(n):
    global global_total
    global_total = global_total + n
    return global_total


print([add_to_total(i) for i in range(4)], global_total)
data = {"b": 2, "a": 1}
print([k for k, v in data.items()], [print(k) for k in data], sorted(data.items()))
print(sum(v for k, v in data.items() if f"{k}" != "b"), [f"{v:>3}" for v in data.values()])
len = lambda s: 42  # noqa: E731
int = str  # noqa: A001
print(len("abc"), int(5), "x" * 3, 2 * 3, f"{'ab'}{'cd'}")
del len, int
print(len("abc"), int("5"))


def recurse_map(n):
    if n == 0:
        return [0]
    return list(map(lambda k: recurse_map(n - 1), range(1)))


print(recurse_map(5))
try:
    print(**{1: 2})
except TypeError as e:
    print("TypeError:", e)
print(*[1, 2, 3], sep=", ", end="!\n")
print(sorted([3, 1], key=None), max([], default=None), min("bca"))
a = b = c = [0]
a += [1]
print(a, b, c, a is b)
t = (1, 2)
t += (3,)
s = {"k": 1}
s |= {"j": 2}
print(t, s)
result = [global_total, a]
