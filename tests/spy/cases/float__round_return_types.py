print(round(2.7), round(2.7, 0), round(7, 0), round(7))
print(isinstance(round(2.7), int), isinstance(round(2.7, 0), float))
result = [round(2.7), round(2.7, 0)]
