# spy-only: Book calls (the case host has one Book, kv, with get/put/fail)
kv.put("a", [1, 2])
print(kv.get("a"), kv.get("missing"), kv.get("missing", default=5), kv.get("missing", 7))
value = kv.get("a")
value.append(3)
print(value, kv.get("a"))
get = kv.get
print(get("a"))


def read(db, key):
    return db.get(key)


print(read(kv, "a"))
try:
    kv.fail("quota exceeded")
except BookError as e:
    print("BookError:", e, repr(e))
try:
    kv.delete("a")
except AttributeError as e:
    print("AttributeError:", e)
try:
    kv.put("f", lambda: 1)
except TypeError as e:
    print("TypeError:", e)
try:
    kv.put("s", {1, 2})
except TypeError as e:
    print("TypeError:", e)
print(kv)
result = kv.get("a")
# expected output:
# [1, 2] None 5 7
# [1, 2, 3] [1, 2]
# [1, 2]
# [1, 2]
# BookError: quota exceeded BookError('quota exceeded')
# AttributeError: Book 'kv' has no procedure 'delete'
# TypeError: Book arguments must be plain data (None, bool, int, float, str, bytes, list, tuple, dict), not function
# TypeError: Book arguments must be plain data (None, bool, int, float, str, bytes, list, tuple, dict), not set
# <book 'kv'>
