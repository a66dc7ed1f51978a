# error: TypeError
raise 5
