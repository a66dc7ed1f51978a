# spy-only: SPy sets iterate in insertion order (CPython's str sets follow the hash seed)
fruits = {"banana", "apple", "cherry", "apple"}
print(fruits, list(fruits), len(fruits))
fruits.add("date")
fruits.discard("banana")
print(fruits, sorted(fruits))
print({"b", "a"} | {"c", "a"}, {"b", "a", "c"} & {"c", "b"}, {"x", "y", "z"} - {"y"}, {"p", "q"} ^ {"q", "r"})
print(set("hello"), frozenset(["z", "y"]), {w[0] for w in ["kiwi", "fig", "kale"]})
print({"k": 1, "j": 2}.keys() | {"a"}, {"one": 1}.items() | {("two", 2)})
s = {"x", "y"}
print(s.pop(), s)
print(repr(set()), repr(frozenset()), str({"q"}), f"{ {'r'} }", "%s" % ({"t"},))
result = list({"m", "l"})
# expected output:
# {'banana', 'apple', 'cherry'} ['banana', 'apple', 'cherry'] 3
# {'apple', 'cherry', 'date'} ['apple', 'cherry', 'date']
# {'b', 'a', 'c'} {'b', 'c'} {'x', 'z'} {'p', 'r'}
# {'h', 'e', 'l', 'o'} frozenset({'z', 'y'}) {'k', 'f'}
# {'k', 'j', 'a'} {('one', 1), ('two', 2)}
# y {'x'}
# set() frozenset() {'q'} {'r'} {'t'}
