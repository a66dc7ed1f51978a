evens = [x for x in range(20) if x % 2 == 0]
big_odd = [x for x in range(20) if x % 2 if x > 10]
print(evens, big_odd)
print([w for w in ["a", "", "bc", ""] if w])
result = [evens, big_odd]
