d = {"k": [10, 20]}
x = 0
print(f"{1 + 2} {d['k'][1]} {len(d)} {x if x else 'none'} {'yes' if d else 'no'}")
print(f"{', '.join(['a', 'b'])} {[i * i for i in range(4)]} {max(3, 9)}")
print(f"{'nested ' + f'{x + 1}'}")
result = f"{d['k'][0] * 2}"
