"""Finite differences of the original function, evaluated with NumPy, many points at once.

Every value carries a leading batch axis, so all the perturbed points a derivative needs
are evaluated in one pass over the tree. Schemes:

- stencils (forward, backward, central, five-point): sum_j w_j f(x + o_j h) / h^K, weights
  solved exactly from the Taylor expansion; the step balances truncation (~ h^p) against
  round-off (~ eps / h^K). Error estimate: the same stencil at 2h gives the truncation
  (Richardson's difference), plus the round-off of the values actually summed.
- richardson: central differences at a ladder of steps h0 / r^k, extrapolated twice
  (eliminating the h^2 and h^4 terms); of the windows along the ladder, the one with the
  smallest estimated error wins. Its estimate is the last extrapolation's change plus
  round-off.
- complex-step: Im f(x + ih) / h. No subtraction, so no cancellation: machine precision,
  for expressions built only from complex-analytic operations.

The package: kit (NumPy, batched), sampler (where f is evaluated, in chunks), stencils,
richardson, gridded (where a grid's own points serve as a stencil's), and engine (the
entry points below, the only names other modules use).
"""

from diffcli.methods.numeric.engine import along, along_grid, differentiate, hessian, sweep
from diffcli.methods.numeric.kit import DTYPES, EPSILON, evaluate_at, leaves, value_at_point
from diffcli.methods.numeric.sampler import f_along
from diffcli.methods.numeric.stencils import SCHEMES, Scheme, stencil

__all__ = [
    "DTYPES",
    "EPSILON",
    "SCHEMES",
    "Scheme",
    "along",
    "along_grid",
    "differentiate",
    "evaluate_at",
    "f_along",
    "hessian",
    "leaves",
    "stencil",
    "sweep",
    "value_at_point",
]
