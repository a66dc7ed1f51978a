n = inputs["n"]
name = inputs["name"]
items = inputs["items"]
total = 0
for x in items:
    total += x
print("hello", name, n, total)
inputs["n"] = 0
cfg = inputs.get("config", {})
print(cfg.get("a"), cfg.get("missing", "default"))
result = {"total": total, "n": n, "sorted": sorted(items)}
