print(0 or "x", "a" and "b", [] and 1, None or 0, "" or [] or {}, 1 and 2 and 3, 0 and 1/0)
print(False or None, True and "yes", not "", not [0])
result = [0 or 5, 3 and 4, "" or "default"]
