def find(items, target):
    for i, v in enumerate(items):
        if v == target:
            print("found at", i)
            break
    else:
        print("not found")
        return -1
    return i


result = [find([5, 6, 7], 6), find([5, 6, 7], 9)]
