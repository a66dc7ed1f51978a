x = "total: "
y = x + 5
