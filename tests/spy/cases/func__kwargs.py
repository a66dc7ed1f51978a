def options(**kw):
    return kw


print(options(), options(a=1), options(z=26, a=1, m=13))
def pick(base, **kw):
    out = dict(base)
    out.update(kw)
    return out


print(pick({"x": 0}, y=1, x=5))
result = options(b=2, a=1)
