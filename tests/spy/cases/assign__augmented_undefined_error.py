# error: NameError
count += 1
