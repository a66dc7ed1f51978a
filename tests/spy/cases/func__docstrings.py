"""A module docstring is not a log record."""


def area(w, h):
    """Area of a rectangle."""
    return w * h


print(area(3, 4))
result = area(2, 5)
