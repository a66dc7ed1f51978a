try:
    raise ValueError("msg", 2, [3])
except ValueError as e:
    print(e.args, len(e.args), e.args[0])
    print(str(e))
try:
    {}["key"]
except KeyError as e:
    print(e.args, str(e))
result = "ok"
