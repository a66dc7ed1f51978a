info = {"name": "Ada", "age": 36, "score": 0.875}
print("%(name)s is %(age)d, score %(score).1f%%" % info)
print("%(name)r %(name)s" % info)
result = "%(age)05d" % info
