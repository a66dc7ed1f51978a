order = []
for i in range(5):
    order.insert(0, i)
    order.insert(len(order) // 2, -i)
print(order)
result = order
