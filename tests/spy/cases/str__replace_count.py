s = "banana"
print(s.replace("a", "o"), s.replace("a", "o", 2), s.replace("an", ""), s.replace("x", "y"))
print("aaa".replace("a", "aa"), "abc".replace("", "-"))
result = s.replace("na", "NA", 1)
