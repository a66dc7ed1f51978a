# error: TypeError
x = sum(["a", "b"], "")
