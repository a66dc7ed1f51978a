print(round(2.675, 2), round(1.005, 2), round(0.125, 2), round(0.375, 2))
print(round(123.456, -1), round(123.456, 1), round(1234, -2), round(1250, -2), round(1350, -2))
print(round(-1234.5678, -2), round(15, -1), round(25, -1))
result = [round(2.675, 2), round(1250, -2), round(25, -1)]
