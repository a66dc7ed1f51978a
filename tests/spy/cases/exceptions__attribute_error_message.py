# error: AttributeError
items = [1, 2]
items.push(3)
