text = """the cat and the hat and the bat
sat on the mat with a cat"""
counts = {}
for word in text.split():
    counts[word] = counts.get(word, 0) + 1
top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:4]
for w, c in top:
    print(f"{w:>5} {'#' * c}")
result = top
