inf = float("inf")
nan = float("nan")
print(f"[{inf:>8}] [{nan:.2f}] [{-inf:+}] [{inf:e}] [{nan:^7}] [{inf:%}]")
print(f"[{inf:08.2f}] [{-inf:,}]")
result = f"{inf:.1f}"
