result = "initial"


def finish():
    global result
    result = {"status": "done", "count": 3}


finish()
