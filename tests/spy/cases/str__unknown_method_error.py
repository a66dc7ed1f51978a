# error: AttributeError
s = "abc"
print(s.upper())
s.shout()
