def solve(n):
    count = 0
    first = None
    cols = []

    def place(row):
        nonlocal count, first
        if row == n:
            count += 1
            if first is None:
                first = cols[:]
            return
        for c in range(n):
            if all(c != pc and abs(c - pc) != row - pr for pr, pc in enumerate(cols)):
                cols.append(c)
                place(row + 1)
                cols.pop()

    place(0)
    return count, first


for n in range(1, 7):
    print(n, solve(n))
result = solve(6)
