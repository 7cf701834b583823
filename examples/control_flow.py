"""The course's example of a gradient through Python control flow.

f (in diffcli/teaching/course.py, which the control-flow demo runs) doubles its input until
the norm passes 1000, then keeps it or scales it by 100 by the sign of the sum: a piecewise
linear function, so f(a) = (d / a) * a and df/da = d / a.

    diffcli grad --python examples/control_flow.py:f --at a=0.7

Run directly, it checks torch's gradient against d / a, as the course does.
"""

import torch

from diffcli.teaching.course import f

if __name__ == "__main__":
    a = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    d = f(a)
    d.backward()
    print(f"f(a) = {d.item()}, a.grad = {a.grad.item()}, d / a = {(d / a).item()}")
    assert a.grad == d / a
