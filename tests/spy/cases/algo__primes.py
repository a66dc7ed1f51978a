def primes_upto(n):
    sieve = [True] * (n + 1)
    sieve[0] = False
    sieve[1] = False
    p = 2
    while p * p <= n:
        if sieve[p]:
            for k in range(p * p, n + 1, p):
                sieve[k] = False
        p += 1
    out = []
    for i, is_p in enumerate(sieve):
        if is_p:
            out.append(i)
    return out


ps = primes_upto(100)
print(len(ps), ps[:10], ps[-1])
result = ps
