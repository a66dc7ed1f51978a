# error: TypeError
def twice(x):
    return x * 2


f = twice
print(f(1))
y = f(1, 2)
