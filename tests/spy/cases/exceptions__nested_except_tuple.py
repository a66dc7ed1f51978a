t = (ValueError,)
for i in range(10000):
    t = (t,)
caught = []
for types in [t, ((ValueError,),), (KeyError, (ValueError,)), (ValueError, KeyError), ()]:
    try:
        try:
            raise ValueError("x")
        except types:
            caught.append("caught")
    except TypeError as e:
        caught.append("TypeError: " + str(e))
    except ValueError as e:
        caught.append("ValueError: " + str(e))
print(caught)
try:
    raise ValueError("y")
except t:
    pass
