def nothing():
    pass


def early(x):
    if x:
        return
    print("late")


def bare():
    return


print(nothing(), early(1), early(0), bare())
result = [nothing(), bare()]
