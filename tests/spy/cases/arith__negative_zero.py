z = -0.0
print(z, 0.0 == z, z < 0, abs(z), 0.0 * -1)
print(-0, 0 * -1, round(-0.4))
result = [z == 0, round(-0.4)]
