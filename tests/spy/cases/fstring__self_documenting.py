x = 42
name = "spy"
print(f"{x=}")
print(f"{x = }")
print(f"{name=}")
print(f"{name=!s}")
print(f"{x * 2=}")
print(f"{x=:>5}")
result = f"{x=}"
