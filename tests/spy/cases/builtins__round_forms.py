print(round(3.14159, 2), round(2.5), round(3.5), round(-2.5), round(7), round(7, 2), round(1234.5678, -2))
print(round(0.1 + 0.2, 15), round(1e20, -19), round(-0.55, 1), round(2 ** 70 + 1, -5))
result = [round(x / 2) for x in range(-5, 6)]
