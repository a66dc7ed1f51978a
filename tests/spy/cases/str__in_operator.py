s = "hello"
print("ell" in s, "" in s, "hello!" in s, "H" not in s, "lo" in s)
result = ["el" in s, "z" in s]
