a = [1]
alias = a
a += (2, 3)
a += "ab"
print(a, alias is a)
a = a + [4]
print(a, alias, alias is a)
result = alias
