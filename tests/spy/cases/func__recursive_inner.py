def tree_size(tree):
    def walk(node):
        if node is None:
            return 0
        return 1 + walk(node.get("left")) + walk(node.get("right"))
    return walk(tree)


t = {"left": {"left": None, "right": {}}, "right": {"left": None}}
print(tree_size(t), tree_size(None))
result = tree_size({"right": {"right": {"right": None}}})
