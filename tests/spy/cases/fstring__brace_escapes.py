x = 5
print(f"{{}} {{{x}}} {{x}} }}{{")
print(f"set: {{{', '.join(['a', 'b'])}}}")
result = f"{{{x}}}"
