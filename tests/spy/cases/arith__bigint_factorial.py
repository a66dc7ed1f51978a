def fact(n):
    out = 1
    for i in range(2, n + 1):
        out *= i
    return out


print(fact(25))
print(fact(40) // fact(38))
result = fact(30)
