config = {"db": {"host": "localhost", "ports": [5432, 5433]}, "debug": False}
print(config["db"]["host"], config["db"]["ports"][-1], config.get("cache", {}).get("ttl", 60))
config["db"]["ports"].append(5434)
config["db"]["user"] = "admin"
print(config)
result = config
