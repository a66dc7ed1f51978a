words = ["banana", "Apple", "cherry", "fig", "date"]
words.sort()
print(words)
words.sort(key=len)
print(words)
words.sort(key=lambda w: w.lower(), reverse=True)
print(words)
nums = [3, -1, 2, -5, 0]
nums.sort(key=abs)
print(nums)
result = sorted(nums, reverse=True)
