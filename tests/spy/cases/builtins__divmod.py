print(divmod(7, 2), divmod(-7, 2), divmod(7, -2), divmod(-7, -2), divmod(0, 5))
print(divmod(7.5, 2), divmod(-7.5, 2), divmod(2 ** 70, 3), divmod(True, 2))
q, r = divmod(100, 7)
result = [q, r, divmod(9, 3)]
