print("ab" * 3, 3 * "xy", repr("x" * 0), repr("x" * -2))
s = "a"
s += "b"
s = s + "c"
s *= 2
print(s)
result = s
