def setup():
    global config, items
    config = {"debug": True}
    items = []


setup()
items.append(1)
print(config, items)
result = config
