result = {1: "one", (2, 3): "pair", None: "none", 2.5: "float"}
