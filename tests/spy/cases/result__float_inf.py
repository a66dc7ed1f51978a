result = [float("inf"), -float("inf"), 1e-300, 0.1]
