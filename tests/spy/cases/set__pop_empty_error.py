# error: KeyError
s = set()
s.pop()
