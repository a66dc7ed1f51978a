data = {"user": {"name": "ann"}}
if (user := data.get("user")) is not None:
    print("found", user["name"])
if (missing := data.get("other")) is None:
    print("missing is", missing)
result = user
