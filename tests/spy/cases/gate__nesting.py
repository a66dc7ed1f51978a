words = ["b", "a", "c"]
d = {"k": 1}
d["k"] += words.count("a")
print(d)
print(",".join(sorted(words)).upper().split(","))
s = "x-y"
print(s.replace("-", "+".join(["1", "2"]).lower()).upper())
print("%s|%s" % (s.upper(), d.get("k")))
print("%s" % s.split("-"), 100 % (7 % 4), 2 % 3 % 5)
print("[%s]" % ("%d" % 5))
print(f"{s.upper()!r:>8} {'%05.1f' % 3.14159} {d.get('k') % 2}")
lst = [[1, 2], [3]]
lst[0].append(lst[1].pop())
print(lst, len(lst[0]).bit_length())
result = [d, lst]
