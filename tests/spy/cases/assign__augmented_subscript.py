d = {"k": 1}
d["k"] += 10
d["k"] *= 2
lst = [5, 6, 7]
lst[0] *= 3
lst[-1] //= 2
lst[1] **= 2
nested = {"a": {"b": [1, 2]}}
nested["a"]["b"][1] += 100
print(d, lst, nested)
result = [d, lst, nested]
