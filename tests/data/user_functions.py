"""Python functions for the --python tests (loaded by path, as a user's file would be)."""

import torch


def square_sum(x, y):
    return (x * x).sum() * y


def vector(x):
    return torch.stack([x * x, torch.sin(x)])


def broken(x):
    return helper(x)


def helper(x):
    raise ValueError("this went wrong in the user's code")


def jump(x):
    if x > 0:
        return x + 1
    return x
