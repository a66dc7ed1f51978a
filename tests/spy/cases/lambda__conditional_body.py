sign = lambda x: "pos" if x > 0 else "neg" if x < 0 else "zero"
print([sign(v) for v in [-2, 0, 3]])
clamp = lambda x, lo=0, hi=10: max(lo, min(hi, x))
print(clamp(-5), clamp(5), clamp(50), clamp(50, hi=20))
result = sign(0)
