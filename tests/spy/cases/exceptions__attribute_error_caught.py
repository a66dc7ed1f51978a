msgs = []
for value in [5, "s", [1], {"a": 1}, (1,), 1.5, None, True]:
    try:
        value.frobnicate()
    except AttributeError as e:
        msgs.append(str(e))
print(msgs)
result = msgs
