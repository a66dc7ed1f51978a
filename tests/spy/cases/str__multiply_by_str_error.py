# error: TypeError
x = "a" * "b"
