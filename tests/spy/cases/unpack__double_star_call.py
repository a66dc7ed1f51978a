def describe(name, age=0, **extra):
    return f"{name}/{age}/{sorted(extra.items())}"


kw = {"name": "ann", "age": 3}
print(describe(**kw))
print(describe(**{"name": "bo"}, city="x"))
print(describe("cy", **{"zip": 1, "age": 9}))
print(dict(**{"a": 1}, b=2))
result = describe(**kw, pet="cat")
