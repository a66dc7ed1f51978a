DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def to_base(n, b):
    if n == 0:
        return "0"
    sign = "-" if n < 0 else ""
    n = abs(n)
    out = []
    while n:
        n, r = divmod(n, b)
        out.append(DIGITS[r])
    return sign + "".join(reversed(out))


for n, b in [(255, 16), (255, 2), (-42, 7), (0, 3), (2 ** 64, 36)]:
    s = to_base(n, b)
    print(n, b, s, int(s, b) == n)
result = to_base(123456789, 36)
