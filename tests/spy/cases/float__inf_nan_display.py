inf = float("inf")
nan = float("nan")
print(inf, -inf, nan)
print(repr(inf), str(-inf), repr(nan))
print([inf, nan], (-inf,))
print(f"{inf} {nan} {-inf}")
result = [str(inf), repr(nan)]
