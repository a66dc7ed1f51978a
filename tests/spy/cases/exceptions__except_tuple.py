def parse(v):
    try:
        return int(v)
    except (ValueError, TypeError) as e:
        return "bad: " + str(e)


print(parse("12"), parse("x"), parse(None))
result = [parse("7"), parse([1])]
