d = {"a": 1, "none": None}
print(d.get("a"), d.get("z"), d.get("z", 0), d.get("none", "dflt"), d.get("a", 99))
result = [d.get("q", []), d.get("a")]
