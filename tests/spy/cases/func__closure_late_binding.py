def make_fns():
    fns = []
    for i in range(3):
        def f():
            return i
        fns.append(f)
    return fns


print([f() for f in make_fns()])
def make_fns_bound():
    fns = []
    for i in range(3):
        def f(i=i):
            return i
        fns.append(f)
    return fns


print([f() for f in make_fns_bound()])
result = [f() for f in make_fns_bound()]
