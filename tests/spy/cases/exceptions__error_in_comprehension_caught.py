def safe_div(values):
    try:
        return [10 // v for v in values]
    except ZeroDivisionError as e:
        return "error: " + str(e)


print(safe_div([1, 2, 5]), safe_div([1, 0]))
result = safe_div([3])
