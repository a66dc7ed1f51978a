print(int("ff", 16), int("0x1f", 16), int("0b101", 0), int("0o17", 0), int("  42 "), int("-7"), int("1_000"))
print(int(3.9), int(-3.9), int(True), int("z", 36), int("777", 8), int("+5"), int(), int("10", 2))
print(int("9" * 30), int(" -0 "))
result = [int("ff", 16), int("11", 2)]
