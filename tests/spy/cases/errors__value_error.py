print(int("12"))
n = int("twelve")
