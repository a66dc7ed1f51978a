# error: ValueError
x = chr(0x110000)
