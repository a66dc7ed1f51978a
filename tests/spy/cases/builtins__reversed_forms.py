print(list(reversed([1, 2, 3])), list(reversed("abc")), list(reversed(range(1, 10, 3))), list(reversed((4, 5))))
print("".join(reversed("racecar")), list(reversed([])))
result = list(reversed({"a": 1, "b": 2, "c": 3}.items()))
