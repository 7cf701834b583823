"""The text of `diffcli check`: right or wrong, why, and a counterexample."""

from __future__ import annotations

from diffcli.teaching.check import CheckResult


def check_text(result: CheckResult) -> str:
    """Two or more lines: the verdict, then how it was reached (or where the answer fails)."""
    label = f"d/d{result.wrt} {result.expression}"
    if result.correct:
        how = (
            "SymPy simplifies the difference to 0"
            if result.symbolic_equal
            else "SymPy could not simplify the difference to 0"
        )
        lines = [
            f"✓ right: {result.answer} is {label}",
            f"  {how}; {result.spot_checks} random points agree",
        ]
    else:
        lines = [
            f"✗ wrong: {result.answer} is not {label}",
            f"  the derivative is {result.derivative}",
        ]
        if result.counterexample:
            point = ", ".join(f"{k} = {v:g}" for k, v in result.counterexample["point"].items())
            lines.append(
                f"  counterexample: at {point} the derivative is "
                f"{result.counterexample['derivative']:.10g}, the answer gives "
                f"{result.counterexample['answer']:.10g}"
            )
    lines.extend(f"  note: {note}" for note in result.notes)
    return "\n".join(lines)
