x = 3
if x > 2:
    pass
else:
    x = 0
for i in range(3):
    pass


def noop():
    pass


print(x, i, noop())
result = noop()
