def key(v):
    return -v


msgs = []
for call in [
    lambda: sorted([1], [2]),
    lambda: sorted(),
    lambda: sorted(iterable=[1]),
    lambda: sorted([1], bad=1),
    lambda: sorted([1], key=None, reverse=False, x=1),
    lambda: sorted([1], key=key, **{"key": key}),
    lambda: sorted([1], **[1]),
    lambda: sorted(1, bad=1),
]:
    try:
        call()
    except TypeError as e:
        msgs.append(str(e))
for m in msgs:
    print(m)
print(sorted([3, 1, 2], **{"key": key}), sorted([3, 1, 2], reverse=True))
items = [5, 3, 9]
items.sort(**{"key": key, "reverse": True})
print(items)
result = sorted([1], [2])
