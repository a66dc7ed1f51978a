words = ["pear", "fig", "banana", "kiwi", "apple"]
print(max(words, key=len), min(words, key=len), max(words), min(words))
print(max([], default="none"), min([], default=0), max([5], default=1))
print(max(words, key=lambda w: (len(w), w)), min(words, key=lambda w: w[-1]))
result = max(words, key=len)
