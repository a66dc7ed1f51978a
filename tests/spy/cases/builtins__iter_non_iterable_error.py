# error: TypeError
it = iter(5)
