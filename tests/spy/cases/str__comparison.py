print("a" < "b", "abc" < "abd", "Z" < "a", "" < "a", "abc" < "ab", "B" > "A")
print("apple" == "apple", "Apple" != "apple", sorted(["b", "B", "a", "A", "_"]))
result = min("banana", "apple", "cherry")
