data = {"rows": [[1, 2, 3], [4, 5]], "meta": {"x": 1, "y": 2}}
del data["rows"][0][1]
del data["meta"]["x"]
del data["rows"][1]
print(data)
result = data
