msgs = []
for call in [
    lambda: ",".join(),
    lambda: ",".join(["a"], ["b"]),
    lambda: ",".join(iterable=["a"]),
    lambda: b",".join(),
    lambda: ",".join(1),
]:
    try:
        call()
    except TypeError as e:
        msgs.append(str(e))
print(msgs)
print(",".join(["a", "b"]), b"-".join([b"x", b"y"]))
x = ",".join([], [])
