def perms(items):
    if len(items) <= 1:
        return [items]
    out = []
    for i, x in enumerate(items):
        for p in perms(items[:i] + items[i + 1:]):
            out.append([x] + p)
    return out


ps = perms([1, 2, 3])
print(len(ps), ps)
print(len(perms(list("abcd"))))
result = ["".join(p) for p in perms(list("abc"))]
