print(list(filter(None, [0, 1, "", "a", None, [], [0]])))
print(list(filter(lambda x: x > 2, [1, 5, 2, 7])), list(filter(lambda c: c.isdigit(), "a1b2")))
def is_vowel(c):
    return c in "aeiou"


result = "".join(filter(is_vowel, "programming language"))
