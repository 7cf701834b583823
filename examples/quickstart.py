"""The Python API in a few lines: compare the three methods and read the result."""

from rich.console import Console

import diffcli

comparison = diffcli.compare("sin(x)", at={"x": 1.0})
Console().print(comparison)  # the same table the CLI prints

exact = comparison.reference.value["x"]
for name, result in comparison.methods.items():
    print(f"{name:9} {float(result.value['x']):.17g}  digits={result.digits:.1f}")
assert comparison.agree and abs(exact - 0.5403023058681398) < 1e-16
