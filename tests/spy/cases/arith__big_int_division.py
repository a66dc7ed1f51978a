a = 7 ** 5000
b = 3 ** 2000 + 1
q = a // b
r = a % b
print(q.bit_length(), r.bit_length(), divmod(a, b) == (q, r), q * b + r == a)
print((-a) // b == -(a // b) - 1, (-a) % b == b - r, a // -b == -(a // b) - 1)
c = a
c //= b
d = a
d %= b
print(c == q, d == r, (a >> 1000).bit_length(), (a >> 10 ** 9), (-a >> 10 ** 9))
print(round(a, -1000) % 10 ** 1000, round(7, -20), round(15, -1), round(25, -1), round(-7, -30))
print(round(1234.5678, 2), round(True, -3), round(10 ** 30, -29))
bits = "1" * 3000
print(int(bits, 2).bit_length(), int("0x" + "f" * 700, 0).bit_length(), int(b"zz", 36))
print(int("  -0b1_01  ", 0), int("0_0_7", 8), int("+" + "0" * 5000 + "17", 16))
big = [a, -a, b] * 50
print(sum(big) == 50 * b, sum(big, 7) - 7 == 50 * b, sum([2 ** 64] * 3, 0.5))
print(math.gcd(a, a + b), math.lcm(2 ** 100, 3 ** 50) == 2 ** 100 * 3 ** 50, math.isqrt(a * a) == a)
result = [q % 1000, r % 1000, a // 7 ** 4999, 7 ** 10 % 1000, 2 ** 100 // 3]
print(a // 0)
