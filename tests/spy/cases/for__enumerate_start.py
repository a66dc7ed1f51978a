for i, c in enumerate("abc", start=1):
    print(i, c)
print(list(enumerate(["x", "y"], 10)))
result = list(enumerate("hi"))
