def total(*nums):
    return len(nums), sum(nums), nums


print(total(), total(1), total(1, 2, 3))
def first_and_rest(first, *rest):
    return first, rest


print(first_and_rest("a", "b", "c"))
result = total(*range(4))
