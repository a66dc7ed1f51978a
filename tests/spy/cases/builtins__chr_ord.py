print(chr(65), chr(97), chr(0x263A), chr(0x1F600), ord("a"), ord("€"), ord("\n"), ord(chr(1000)))
print("".join(chr(ord(c) + 1) for c in "HAL"))
result = [ord(c) for c in "AZaz"]
