def count_items(list_):
    len = 0
    for _ in list_:
        len += 1
    return len


print(count_items([1, 2, 3]), len([1, 2, 3]))
def local_sum():
    sum = "shadowed"
    return sum


print(local_sum(), sum([1, 2]))
result = count_items("abcd")
