def validate(age):
    if age < 0:
        raise ValueError(f"age must be >= 0, got {age}")
    return age


out = []
for a in [5, -1, 30, -7]:
    try:
        out.append(validate(a))
    except ValueError as err:
        out.append(str(err))
print(out)
result = out
