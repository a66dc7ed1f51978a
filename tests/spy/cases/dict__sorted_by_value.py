scores = {"ann": 82, "bob": 95, "cid": 82, "dee": 70, "eve": 95}
ranking = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
print(ranking)
print(sorted(scores, key=scores.get), max(scores, key=scores.get))
result = [name for name, _ in ranking]
