n = 255
print(f"{n:x} {n:X} {n:o} {n:b} {n:#x} {n:#X} {n:#o} {n:#b}")
print(f"{n:08b} {n:#010b} {-n:x} {-n:#x} {0:b} {2 ** 70:x}")
print(f"{n:d} {n:n}")
result = f"{10:04x}"
