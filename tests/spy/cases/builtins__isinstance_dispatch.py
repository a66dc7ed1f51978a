def render(v, indent=0):
    pad = " " * indent
    if isinstance(v, dict):
        lines = []
        for k, item in v.items():
            lines.append(f"{pad}{k}:")
            lines.append(render(item, indent + 2))
        return "\n".join(lines)
    if isinstance(v, list):
        return "\n".join(render(x, indent) for x in v)
    if isinstance(v, str):
        return f"{pad}'{v}'"
    return f"{pad}{v!r}"


print(render({"name": "spy", "tags": ["a", "b"], "meta": {"v": 1.5, "ok": True}}))
result = render([1, None])
