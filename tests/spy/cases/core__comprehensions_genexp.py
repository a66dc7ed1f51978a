nums = list(range(12))
evens = [n for n in nums if n % 2 == 0]
pairs = [(a, b) for a in range(3) for b in range(a) if a + b > 1]
squares = {n: n * n for n in nums if n < 5}
flat = [x for row in [[1, 2], [3], [], [4, 5, 6]] for x in row]
nested = [[i * j for j in range(4)] for i in range(3)]
total = sum(n * n for n in nums)
print(evens, pairs, squares, flat, nested, total)
print(any(n > 10 for n in nums), all(n >= 0 for n in nums), min(n % 5 for n in nums))
print(max((len(w), w) for w in "the quick brown fox".split()))
print(sorted((w for w in "b a d c".split()), reverse=True))
print(",".join(str(n) for n in nums[:5]), list(x * 2 for x in range(3)), tuple(c for c in "abc"))
print(dict((k, v) for k, v in zip("xyz", range(3))))
print(sorted({c for c in "mississippi"}))
gen = (i * i for i in range(5))
print(next(gen), next(gen), list(gen), list(gen))
words = ["apple", "Banana", "cherry"]
print([w.upper() for w in words if w.islower()], {w[0]: len(w) for w in words})
matrix = [[1, 2, 3], [4, 5, 6]]
print([[row[i] for row in matrix] for i in range(3)])
x = 10
print([x for x in range(3)], x)
fns = [lambda v, k=k: v + k for k in range(3)]
print([f(10) for f in fns])
print(sum(1 for _ in range(1000)), sum(x for x in [0.5, 0.25]), sum([[1], [2]], []))
result = [evens, total, squares]
