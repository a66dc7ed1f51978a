log = []


def t(name, value):
    log.append(name)
    return value


r1 = t("a", False) and t("b", True)
r2 = t("c", True) or t("d", True)
r3 = t("e", 0) or t("f", "") or t("g", "last")
r4 = t("h", 1) and t("i", 2) and t("j", None) and t("k", 3)
print(r1, r2, r3, r4, log)
result = log
