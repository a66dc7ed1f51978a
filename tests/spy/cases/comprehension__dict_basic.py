sq = {x: x * x for x in range(5)}
print(sq)
lengths = {w: len(w) for w in ["one", "three", "five"] if len(w) > 3}
print(lengths)
result = sq
