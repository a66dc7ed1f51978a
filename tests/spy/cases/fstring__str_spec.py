s = "abcdef"
print(f"[{s:.2}] [{s:.3}] [{s:8.3}] [{s:*^9.2}] [{s:>3}]")
result = f"{s:.1}"
