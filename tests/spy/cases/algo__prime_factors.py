def factors(n):
    out = []
    d = 2
    while d * d <= n:
        while n % d == 0:
            out.append(d)
            n //= d
        d += 1
    if n > 1:
        out.append(n)
    return out


for n in [2, 12, 97, 360, 2 ** 10 * 3 ** 4, 600851475143]:
    print(n, factors(n))
result = factors(9999991 * 7)
