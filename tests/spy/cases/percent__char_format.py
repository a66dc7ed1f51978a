print("%c%c%c" % (72, 105, 33), "%c" % "x", "[%3c]" % "y")
result = "%c" % 65
