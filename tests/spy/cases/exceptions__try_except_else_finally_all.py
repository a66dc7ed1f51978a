def run(n):
    out = []
    try:
        out.append("try")
        r = 10 / n
    except ZeroDivisionError:
        out.append("except")
        return out
    else:
        out.append(f"else {r}")
        return out
    finally:
        out.append("finally")


print(run(2), run(0))
result = run(5)
