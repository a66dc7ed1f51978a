mods = {x % 4 for x in range(20)}
print(sorted(mods), len(mods))
firsts = {w[0] for w in ["apple", "avocado", "banana", "cherry", "blueberry"]}
print(sorted(firsts))
result = sorted(mods)
