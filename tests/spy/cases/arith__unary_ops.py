x = 5
print(-x, +x, ~x, --x, -(-x), ~~x, not x)
y = -0
print(y, -y, ~0, ~-1)
f = 2.5
print(-f, +f)
result = [-x, ~x, not x]
