s = "hello world, hello"
print(s.find("hello"), s.rfind("hello"), s.find("xyz"), s.find("o", 5), s.find("o", 5, 7))
print(s.index("world"), s.rindex("l"), s.find(""), s.rfind(""))
result = [s.find("l"), s.rfind("l")]
