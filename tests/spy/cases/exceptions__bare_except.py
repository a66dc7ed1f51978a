def safe(f):
    try:
        return f()
    except:
        return "failed"


print(safe(lambda: 1), safe(lambda: 1 / 0), safe(lambda: undefined_name))
result = safe(lambda: [].pop())
