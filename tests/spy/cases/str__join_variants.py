words = ["alpha", "beta", "gamma"]
print(", ".join(words), "".join(words), "-".join("abc"))
print("|".join([]), "/".join(["only"]), " ".join(str(i) for i in range(4)))
result = "+".join(reversed(words))
