print(f"{65:c}{66:c}{0x263A:c}")
print(f"[{97:>3c}]")
result = f"{104:c}{105:c}"
