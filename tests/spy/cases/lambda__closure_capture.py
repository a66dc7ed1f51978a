def make_counter_fns(start):
    state = {"n": start}
    inc = lambda: state.update(n=state["n"] + 1) or state["n"]
    get = lambda: state["n"]
    return inc, get


inc, get = make_counter_fns(10)
print(inc(), inc(), get())
result = get()
