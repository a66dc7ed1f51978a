words = ["w" + str(i) for i in range(3000)]
t = tuple(words)
print("w17" in words, "w3000" in words, "w5" not in t, "x" not in words, 5 in words)
print(words.index("w2999"), t.index("w1"), words.count("w7"), t.count("w"), words.index("w7", 5, 10))
w = list(words)
w.remove("w10")
print(len(w), "w10" in w, ["w1", "w2"] in [words[1:3]] * 300)
msgs = []
for call in [lambda: words.index("nope"), lambda: t.index("nope"), lambda: w.remove("nope"),
             lambda: words.index(len), lambda: range(3).index(7), lambda: [].index(None)]:
    try:
        call()
    except ValueError as e:
        msgs.append(str(e))
print(msgs)
nums = list(range(5000, 0, -1))
nums.sort()
print(nums[:3], sorted(words, reverse=True)[:2], sorted(["b" * 300, "a" * 300] * 2500)[0][:3])
log = []


def v(x):
    log.append(x)
    return x


print(v(1) < v(2) in v([2, 3]), v(5) in v(words) in v([False]), v(0) in v([0]) == v(True))
print(log)
result = [x in words for x in ["w1", "nope"]]
