def make_account(owner, balance=0):
    history = []

    def deposit(amount):
        nonlocal balance
        if amount <= 0:
            raise ValueError("deposit must be positive")
        balance += amount
        history.append(("dep", amount))
        return balance

    def withdraw(amount):
        nonlocal balance
        if amount > balance:
            raise ValueError(f"{owner}: insufficient funds ({balance} < {amount})")
        balance -= amount
        history.append(("wd", amount))
        return balance

    return {"deposit": deposit, "withdraw": withdraw, "history": history}


acct = make_account("ann", 10)
print(acct["deposit"](5), acct["withdraw"](3))
for op, amt in [("withdraw", 100), ("deposit", -1), ("deposit", 1)]:
    try:
        print(op, amt, acct[op](amt))
    except ValueError as e:
        print(op, amt, "failed:", e)
result = acct["history"]
