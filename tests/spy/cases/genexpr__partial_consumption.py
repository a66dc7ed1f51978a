it = iter([1, 2, 3, 4, 5, 6])
print(any(x > 2 for x in it))
print(list(it))
gen = (c for c in "abcdef")
first = [next(gen) for _ in range(2)]
print(first, "".join(gen))
result = first
