text = "one\ntwo\r\nthree\rfour\n"
print(text.splitlines())
print(text.splitlines(True))
print("".splitlines(), "no newline".splitlines())
result = text.splitlines()
