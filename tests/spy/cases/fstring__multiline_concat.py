x = 3
y = 4
msg = (
    f"x={x} "
    "plain "
    f"y={y} "
    f"sum={x + y}"
)
print(msg)
result = msg
