def documented(x):
    """Return x doubled.

    The docstring is not a statement with a record.
    """
    return x * 2


def only_doc():
    """Nothing else."""


print(documented(4), only_doc())
result = documented("ab")
