print(str(ValueError()), str(ValueError("a")), str(ValueError("a", "b")), str(KeyError("k")))
print(str(IndexError(3)), str(KeyError()), str(TypeError(None)), repr(str(Exception("")))) 
result = [str(ValueError("x")), str(KeyError("x"))]
