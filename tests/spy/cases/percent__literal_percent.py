print("100%%" % (), "%d%%" % 5, "%%s" % ())
print("%s%%s" % "x")
result = "%d%% done" % 50
