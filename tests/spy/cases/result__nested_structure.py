result = {"name": "spy", "values": [1, 2.5, None, True], "pair": (1, "two"), "nested": {"deep": [[], {}]}}
