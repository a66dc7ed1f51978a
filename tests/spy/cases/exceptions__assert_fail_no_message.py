# error: AssertionError
items = []
assert items == []
assert items
