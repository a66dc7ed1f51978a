# spy-only: effect builtins (the case host answers them deterministically)
print(now(), random(), randint(3, 9), uuid(), uuid())
print(sleep(0.5), sleep(0), artifact("report.txt", "hello"), artifact("raw.bin", b"\x00\x01"))
for call in [lambda: randint("a", 2), lambda: randint(3, 1), lambda: sleep(-1), lambda: sleep("1"), lambda: artifact("../x", "t")]:
    try:
        call()
    except (TypeError, ValueError) as e:
        print(repr(e))
result = now()
# expected output:
# 1700000000.5 0.25 3 00000000-0000-4000-8000-000000000001 00000000-0000-4000-8000-000000000002
# None None mem://artifact/report.txt mem://artifact/raw.bin
# TypeError('randint() arguments must be int, not str')
# ValueError('empty range for randint(3, 1)')
# ValueError('sleep length must be non-negative and finite')
# TypeError('sleep() argument must be a finite int or float, not str')
# ValueError("artifact() name '../x' must be a plain file name (no '/', '\\', NUL, and not '.' or '..')")
