def first_long(words, n):
    for w in words:
        if (size := len(w)) >= n:
            return w, size
    return None, 0


print(first_long(["a", "abcd", "abc"], 3), first_long(["a"], 5))
result = first_long(["xyz"], 2)
