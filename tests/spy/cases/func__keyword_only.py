def connect(host, *, port=80, secure=False):
    return f"{host}:{port} secure={secure}"


print(connect("a"), connect("b", port=443, secure=True), connect(host="c", secure=True))
result = connect("d", port=8080)
