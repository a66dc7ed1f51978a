s = "ab"
s += "cd"
s *= 2
t = (1,)
t += (2, 3)
t *= 2
print(s, t)
result = [s, t]
