result = 3 ** 200
