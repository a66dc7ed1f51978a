print(repr("a'b"), repr([1, "x", None]), repr({"k": (1,)}), repr(1.0), repr(True), repr(b"z"), repr(""), repr(()))
print(repr(-0.0), repr(1e-10), repr([[], {}]), repr("\t"))
result = repr(["q", 1])
