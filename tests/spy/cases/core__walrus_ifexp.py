data = [3, 8, 1, 9, 4]
if (n := len(data)) > 3:
    print("long", n)
big = [y for x in data if (y := x * 2) > 5]
print(big, y)
i = 0
while (i := i + 1) < 4:
    print("tick", i)
print([(v, "even" if v % 2 == 0 else "odd") for v in data])
label = "big" if n > 10 else "medium" if n > 3 else "small"
print(label, (m := 5) + m)
result = [big, label]
