# error: TypeError
print("%d" % 5)
x = "%d" % "five"
