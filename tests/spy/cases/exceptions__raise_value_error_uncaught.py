# error: ValueError
def check_positive(n):
    if n <= 0:
        raise ValueError(f"expected a positive number, got {n}")
    return n


print(check_positive(3))
check_positive(-2)
