width = 10
prec = 3
value = 3.14159
print(f"[{value:>{width}}]")
print(f"[{value:{width}.{prec}f}]")
print(f"[{'x':{'*'}^{width}}]")
print(f"[{value:>{width * 2}.{prec - 1}f}]")
result = f"{value:{width}.{prec}}"
