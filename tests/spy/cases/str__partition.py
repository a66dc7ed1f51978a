line = "key=value=more"
print(line.partition("="), line.rpartition("="))
print("novalue".partition("="), "novalue".rpartition("="))
head, sep, tail = "a:b".partition(":")
result = [head, sep, tail]
