def greet(name=None, punct="!"):
    if name is None:
        name = "world"
    return "hello " + name + punct


print(greet(), greet("spy"), greet(punct="?"), greet(None, "."))
result = greet("x")
