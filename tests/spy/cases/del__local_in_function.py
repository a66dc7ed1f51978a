def f():
    temp = [1, 2]
    keep = temp
    del temp
    return keep


print(f())
result = f()
