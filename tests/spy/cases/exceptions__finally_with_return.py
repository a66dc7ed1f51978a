trace = []


def f():
    try:
        trace.append("try")
        return "from try"
    finally:
        trace.append("finally")


print(f(), trace)
result = trace
