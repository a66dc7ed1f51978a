f = "test_module.py"
print(f.removeprefix("test_"), f.removesuffix(".py"), f.removeprefix("x"), f.removesuffix("x"))
result = f.removeprefix("test_").removesuffix(".py")
