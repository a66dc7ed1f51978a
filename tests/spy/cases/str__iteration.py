vowels = 0
letters = []
for ch in "Programming":
    if ch.lower() in "aeiou":
        vowels += 1
    letters.append(ch)
print(vowels, letters[:3], len(letters))
result = vowels
