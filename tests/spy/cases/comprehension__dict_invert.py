colors = {"red": 1, "green": 2, "blue": 3}
inverted = {v: k for k, v in colors.items()}
print(inverted)
dup = {len(k): k for k in colors}
print(dup)
result = inverted
