# error: ValueError
def parse_port(s):
    try:
        return int(s)
    except ValueError as e:
        raise ValueError(f"bad port {s!r}") from e


print(parse_port("80"))
parse_port("eighty")
