for i in range(3):
    print("loop", i)
else:
    print("else runs", i)
for x in []:
    print("never")
else:
    print("else on empty")
result = i
