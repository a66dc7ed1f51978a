prices = {"a": 1.0, "b": 2.5}
for k in prices:
    prices[k] = prices[k] * 2
print(prices)
result = prices
