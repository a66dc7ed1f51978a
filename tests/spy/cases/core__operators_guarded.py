calls = []


def v(name, value):
    calls.append(name)
    return value


# every guarded operator evaluates each operand exactly once, left to right
print(v("a", 2) + v("b", 3), v("c", "x") + v("d", "y"), v("e", [1]) + v("f", [2]))
print(v("g", 3) * v("h", 4), v("i", "ab") * v("j", 2), v("k", 2) * v("l", [0]), v("m", 1.5) * v("n", 2))
print(v("o", 2) ** v("p", 10), v("q", 2.0) ** v("r", 0.5), v("s", 1) << v("t", 5), v("u", -3) ** 3)
print(v("w", 7) % v("x", 3), v("y", "%s-%s") % v("z", (1, 2)), v("A", 7.5) % 2)
print(calls)
calls.clear()
x = v("B", 10)
x += v("C", 5)
x *= v("D", 2)
x **= v("E", 2)
x <<= v("F", 1)
x %= v("G", 7)
s = "a"
s += v("H", "b")
s *= v("I", 3)
lst = [1]
alias = lst
lst += v("J", [2])
lst *= v("K", 2)
print(x, s, lst, alias is lst, calls)
d = {"k": [1], "n": 2, "t": (1,)}
d["k"] += [2]
d["n"] *= 10
d["n"] **= 2
d["t"] += (2,)
d["t"] *= 2
print(d)
print(True + True, True * "ab", 3 * True, [1, 2] * 0, -1 * "x", "x" * -2, (1,) * 3)
print(2 ** -1, (-2) ** 0.5 == (-2) ** 0.5, 10 ** 20, 3 ** 40, 1.5 ** 2, 2 ** 3 ** 2)
print(1 << 64, -1 << 3, 5 << 0, 8 >> 2, -8 >> 1)
big = 10 ** 30
print(big * big, big + 1, big * 3, 3 * big, -big * big, big ** 2, big << 10)
for a, b in [(1, 2), (1.5, 2), ("a", 3), ([1], 2), (2, (1,)), (True, 2.5)]:
    print(a * b, b * a)
for bad in [("a", "b"), ([1], [2]), (None, 1), ({}, 2)]:
    try:
        print(bad[0] * bad[1])
    except TypeError as e:
        print("TypeError:", e)
for bad in [("a", 1), ([1], (2,)), (1, "a"), (None, None)]:
    try:
        print(bad[0] + bad[1])
    except TypeError as e:
        print("TypeError:", e)
try:
    print(1 << -1)
except ValueError as e:
    print("ValueError:", e)
try:
    print("a" ** 2)
except TypeError as e:
    print("TypeError:", e)
print(pow(2, 10), pow(2, 10, 1000), pow(3, -1, 7), pow(2.0, 3), divmod(17, 5), divmod(-7.5, 2))
n = 5
print(n * 2, 2 * n, n * n, n + n, n ** 2, n ** 3, n << n, f"{n * n}")
result = [x, s, lst, d]
