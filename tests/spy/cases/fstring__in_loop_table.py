rows = [("apple", 3, 0.5), ("kiwi", 12, 0.25), ("watermelon", 1, 3.0)]
for name, qty, price in rows:
    print(f"{name:<12}|{qty:>4}|{price:>7.2f}|{qty * price:>8.3f}")
result = f"{sum(q * p for _, q, p in rows):.2f}"
