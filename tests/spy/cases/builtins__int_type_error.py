# error: TypeError
x = int([1])
