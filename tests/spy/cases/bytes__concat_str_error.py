# error: TypeError
x = b"ab" + "cd"
