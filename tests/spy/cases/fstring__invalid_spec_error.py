# error: ValueError
x = 5
print(f"{x:>3}")
s = f"{x:q}"
