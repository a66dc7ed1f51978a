print(round(0.5), round(1.5), round(2.5), round(3.5), round(-0.5), round(-1.5))
print(round(0.4999), round(2.5001), round(-2.5))
result = [round(x + 0.5) for x in range(-4, 4)]
