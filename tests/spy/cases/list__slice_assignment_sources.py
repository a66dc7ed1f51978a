a = list(range(10))
a[::2] = range(5)
print(a)
a[1:3] = "xy"
print(a)
a[0:0] = (c for c in "pq")
print(a)
a[-2:] = {7: 1, 8: 2}
print(a)
a[:] = iter([1, 2, 3])
print(a)
b = [0, 0]
a[1:2], b[0:1] = range(3), [9, 9]
print(a, b)
for b[1:] in ["ab", range(2)]:
    print(b)
m = [[0] * 3 for _ in range(2)]
m[0][1:2] = [5, 6]
print(m)
a[:0] = a
print(a)
del a[::2]
print(a)
msgs = []
for value in [5, [1, 2, 3, 4]]:
    try:
        a[0:1] = value
        a[::2] = value
    except (TypeError, ValueError) as e:
        msgs.append(str(e))
print(msgs)
a[::2] = [1]
