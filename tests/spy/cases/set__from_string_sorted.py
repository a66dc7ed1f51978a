letters = set("mississippi")
print(sorted(letters), len(letters), "s" in letters)
result = "".join(sorted(letters))
