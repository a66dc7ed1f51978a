a = 7 ** 3000
b = 5 ** 4000
print(math.gcd(a, b), math.gcd(a * 49, a * 7) == a * 7, math.gcd(), math.gcd(12, 18, 27))
print(math.lcm(4, 6, 10), math.lcm(), math.isqrt(10 ** 200) == 10 ** 100, math.isqrt(17))
print(math.factorial(20), math.comb(40, 20), math.perm(10, 3), math.perm(5, None), math.prod([2, 3], start=4))
msgs = []
for call in [lambda: math.gcd(1.5, 2), lambda: math.isqrt(-1), lambda: math.isqrt(1.5),
             lambda: math.lcm(2, "a"), lambda: math.factorial(-1), lambda: math.comb(1, k=2)]:
    try:
        call()
    except (TypeError, ValueError) as e:
        msgs.append(str(e))
print(msgs)
result = (a * b) % 1000
