# error: NotImplementedError
def todo():
    raise NotImplementedError("later")


try:
    todo()
except RuntimeError as e:
    print("NotImplementedError is a RuntimeError:", e)
todo()
