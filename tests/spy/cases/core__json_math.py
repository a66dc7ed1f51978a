# `json` and `math` are SPy namespaces; the CPython run gets the real modules.
data = {"name": "x", "n": [1, 2.5, None, True], "nested": {"a": {"b": []}}}
text = json.dumps(data)
print(text)
print(json.dumps(data, indent=2, sort_keys=True))
print(json.dumps(data, separators=(",", ":")), json.dumps("é"), json.dumps("é", ensure_ascii=False))
print(json.dumps([1, (2, 3)]), json.dumps({1: "int key", 2.5: "f", None: 0, True: 1}))
back = json.loads(text)
print(back == data, back["n"], json.loads("[1, 2.0, \"s\", null, false]"), json.loads(b'{"a": 1}'))
for bad in ['{"a": }', "[1,", "nan?"]:
    try:
        json.loads(bad)
    except ValueError as e:
        print("ValueError:", e)
try:
    json.dumps({1, 2})
except TypeError as e:
    print("TypeError:", e)
try:
    json.dumps({(1, 2): 3})
except TypeError as e:
    print("TypeError:", e)
loop = []
loop.append(loop)
try:
    json.dumps(loop)
except ValueError as e:
    print("ValueError:", e)
print(math.pi, math.e, math.inf, math.isnan(math.nan), math.tau)
print(math.sqrt(16), math.floor(2.7), math.ceil(2.1), math.log(math.e), math.log(8, 2), math.log10(1000), math.log2(8))
print(math.exp(0), math.sin(0), math.cos(0), math.tan(0), math.atan2(1, 1), math.hypot(3, 4), math.fabs(-2))
print(math.isclose(0.1 + 0.2, 0.3), math.isfinite(1.0), math.isinf(-math.inf), math.gcd(12, 18), math.lcm(4, 6))
print(math.fsum([0.1] * 10), math.prod([1, 2, 3, 4]), math.prod([]), math.factorial(10), math.comb(5, 2), math.perm(5, 2))
print(math.trunc(-2.5), math.copysign(1, -0.0), math.degrees(math.pi), math.radians(180), math.fmod(7, 3), math.isqrt(17))
try:
    math.sqrt(-1)
except ValueError as e:
    print("ValueError:", e)
try:
    math.factorial(-1)
except ValueError as e:
    print("ValueError:", e)
result = [json.dumps(back), math.floor(9.9)]
