deps = {
    "app": ["lib", "utils"],
    "lib": ["core"],
    "utils": ["core", "fmt"],
    "core": [],
    "fmt": [],
}
order = []
state = {}


def visit(node):
    if state.get(node) == "done":
        return
    if state.get(node) == "active":
        raise ValueError("cycle at " + node)
    state[node] = "active"
    for d in deps[node]:
        visit(d)
    state[node] = "done"
    order.append(node)


for n in deps:
    visit(n)
print(order)
result = order
