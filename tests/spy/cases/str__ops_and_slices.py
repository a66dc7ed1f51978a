s = "abcdefgh"
print(s[0], s[-1], s[2:5], s[:3], s[5:], s[::2], s[::-1], s[1:-1:3])
print(len(s), s * 2, s + "!", "c" in s)
print(str(12) + str(3.5) + str(True) + str(None) + str([1, "a"]))
print(repr("quote'd"), repr([1, "two"]))
print("%s is %d years" % ("Ada", 36))
result = s[::-1]
