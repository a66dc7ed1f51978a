memo = {}


def fib(n):
    if n < 2:
        return n
    if n in memo:
        return memo[n]
    memo[n] = fib(n - 1) + fib(n - 2)
    return memo[n]


print(fib(10), fib(50), fib(90))
print(len(memo))
result = fib(80)
