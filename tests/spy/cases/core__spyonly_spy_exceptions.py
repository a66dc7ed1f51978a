# spy-only: BookError and LimitExceeded are SPy exception names a program may raise and catch
try:
    raise BookError("not found")
except Exception as e:
    print(repr(e), isinstance(e, BookError), isinstance(e, Exception))
try:
    raise LimitExceeded("api quota")
except LimitExceeded as e:
    print("caught", e)
print(BookError, LimitExceeded, ValueError)
try:
    raise BookError
except BookError as e:
    print(repr(e))
result = "ok"
# expected output:
# BookError('not found') True True
# caught api quota
# <class 'BookError'> <class 'LimitExceeded'> <class 'ValueError'>
# BookError()
