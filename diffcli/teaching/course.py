"""The course's Python function for the control-flow demo (its own file, since
--python runs a file): f doubles a until the norm passes 1000, then keeps or scales it."""


def f(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    c = b if b.sum() > 0 else 100 * b
    return c
