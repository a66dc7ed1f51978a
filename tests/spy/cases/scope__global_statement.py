counter = 0


def bump(n=1):
    global counter
    counter += n
    return counter


bump()
bump(5)
print(counter, bump(), counter)
result = counter
