name = "Ada"
age = 36
print("%s is %d years" % (name, age))
print("%5.2f|%-6s|%03d|%x|%r" % (3.14159, "ab", 7, 255, name))
print("%(who)s likes %(what)s" % {"who": name, "what": "maths"})
print("list: %s" % [1, "a"])
print("dict: %s" % {"k": (1, 2)})
print("tuple: %s" % ((1, 2),))
print("100%%" % ())
msg = "%s-%s"
msg %= ("a", "b")
print(msg)
parts = ["%d"]
parts[0] %= 5
print(parts)
result = "%s:%s" % (name, age)
