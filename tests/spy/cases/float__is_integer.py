print((2.0).is_integer(), (2.5).is_integer(), (-0.0).is_integer(), (1e300).is_integer())
vals = [1.0, 1.5, 3.0]
result = [v.is_integer() for v in vals]
