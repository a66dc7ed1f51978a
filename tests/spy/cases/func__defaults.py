def greet(name, greeting="Hello", punct="!"):
    return greeting + ", " + name + punct


print(greet("Ada"))
print(greet("Bob", "Hi"))
print(greet("Cy", punct="?"))
print(greet(greeting="Yo", name="Di"))


def nothing():
    pass


print(nothing())
result = greet("SPy")
