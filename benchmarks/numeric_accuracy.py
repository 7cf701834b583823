"""Finite-difference accuracy and cost: diffcli's schemes vs numdifftools and scipy.differentiate.

Run: python benchmarks/numeric_accuracy.py   (needs numdifftools and scipy: benchmark-only)

Over a corpus of smooth functions and points (badly scaled ones included), each method's
relative error against the exact derivative (SymPy at 40 digits), its function
evaluations and its time per derivative are measured in this one process, side by side.
Each tool gets its function ready-made (diffcli a parsed Problem, the others a NumPy
lambda), so the times compare differentiation, not parsing.
"""

from __future__ import annotations

import math
import statistics
import sys
import timeit
import warnings

import numpy as np

from diffcli.core.problem import build_problem
from diffcli.features.stepsize import STEPS
from diffcli.methods import numeric, symbolic

CORPUS: list[tuple[str, object, float]] = [
    ("exp(x)", np.exp, 1.0),
    ("sin(x)", np.sin, 1.0),
    ("cos(x)", np.cos, 0.5),
    ("log(x)", np.log, 2.0),
    ("sqrt(x)", np.sqrt, 3.0),
    ("x**3", lambda x: x**3, 2.0),
    ("1/(1 + x**2)", lambda x: 1 / (1 + x**2), 0.5),
    ("atan(x)", np.arctan, 2.0),
    ("tanh(x)", np.tanh, 0.7),
    ("exp(-x**2)", lambda x: np.exp(-(x**2)), 0.8),
    ("sin(x)*exp(x)", lambda x: np.sin(x) * np.exp(x), 1.0),
    ("log(1 + x**2)", lambda x: np.log(1 + x**2), 1.5),
    ("x*sin(1/x)", lambda x: x * np.sin(1 / x), 0.5),
    ("sinh(x)", np.sinh, 2.0),
    ("sqrt(x)*log(x)", lambda x: np.sqrt(x) * np.log(x), 4.0),
    ("1/(1 + exp(-x))", lambda x: 1 / (1 + np.exp(-x)), -1.0),
    ("sin(x)**2", lambda x: np.sin(x) ** 2, 1.2),
    ("cos(x**2)", lambda x: np.cos(x**2), 1.1),
    ("x**5 - 3*x**2", lambda x: x**5 - 3 * x**2, 1.3),
    ("exp(sin(x))", lambda x: np.exp(np.sin(x)), 0.3),
    ("cos(100*x)", lambda x: np.cos(100 * x), 0.3),
    ("exp(x)", np.exp, 1e-8),
    ("sin(x)", np.sin, 1e-8),
    ("x**2 + x", lambda x: x**2 + x, 1e-8),
    ("log(x)", np.log, 1e8),
    ("sqrt(x)", np.sqrt, 1e8),
    ("exp(x/1e8)", lambda x: np.exp(x / 1e8), 1e8),
    ("exp(50*x)", lambda x: np.exp(50 * x), 1.0),
    ("sin(1000*x)", lambda x: np.sin(1000 * x), 1.0),
    ("sin(x)", np.sin, 1e8),
    ("x**-2", lambda x: x**-2.0, 1e-3),
    ("log(x)", np.log, 1e-3),
]
OURS = ("central", "five-point", "richardson", "complex-step")


def exact_derivative(text: str, x: float) -> float:
    problem = build_problem(text, {"x": x})
    values, problems = symbolic.reference(symbolic.derive(problem))
    assert not problems, problems
    return float(values["x"])


def seconds_per_call(call: object, budget: float = 0.02) -> float:
    """Median time of one call, from enough repeats to fill the budget."""
    once = timeit.timeit(call, number=1)
    number = max(1, int(budget / max(once, 1e-6)))
    return statistics.median(timeit.repeat(call, number=number, repeat=5)) / number


def run_ours(problem: object, scheme: str) -> dict[str, float]:
    outcome = numeric.differentiate(problem, scheme)
    return {
        "value": float(outcome.value["x"]),
        "estimate": outcome.details["error_estimate"],
        "evaluations": outcome.details["evaluations"],
        "seconds": seconds_per_call(lambda: numeric.differentiate(problem, scheme)),
    }


def run_numdifftools(function: object, x: float) -> dict[str, float]:
    import numdifftools as nd

    calls = [0]

    def counted(v: np.ndarray) -> np.ndarray:
        calls[0] += np.size(v)
        return function(v)

    result = nd.Derivative(counted, full_output=True)(x)
    evaluations = calls[0]
    plain = nd.Derivative(function)
    return {
        "value": float(result.estimate),
        "estimate": float(result.error_estimate),
        "evaluations": evaluations,
        "seconds": seconds_per_call(lambda: plain(x)),
    }


def run_scipy(function: object, x: float) -> dict[str, float]:
    from scipy.differentiate import derivative

    result = derivative(function, x)
    return {
        "value": float(result.df),
        "estimate": float(result.error),
        "evaluations": int(result.nfev),
        "seconds": seconds_per_call(lambda: derivative(function, x)),
    }


def bottom_of_v(errors: list[float]) -> float:
    """The best fixed step's error: the second smallest of the sweep (one step can land on
    the exact value by luck of rounding), and never below one rounding of the result."""
    return max(sorted(errors)[1], float(np.finfo(float).eps))


def relative(value: float, exact: float) -> float:
    if not math.isfinite(value):
        return math.inf
    return abs(value - exact) / abs(exact)


def main() -> int:
    warnings.simplefilter("ignore")
    rows: dict[str, list[dict[str, float]]] = {m: [] for m in (*OURS, "numdifftools", "scipy")}
    auto_vs_best: list[float] = []
    print(f"{'function':18} {'x':>6}  " + "  ".join(f"{m:>12}" for m in rows))
    for text, function, x in CORPUS:
        exact = exact_derivative(text, x)
        problem = build_problem(text, {"x": x})
        results = {}
        for scheme in OURS:
            try:
                results[scheme] = run_ours(problem, scheme)
            except Exception as refusal:  # complex-step refuses non-analytic operations
                print(f"  ({scheme} skipped for {text}: {refusal})")
        results["numdifftools"] = run_numdifftools(function, x)
        results["scipy"] = run_scipy(function, x)
        for name, result in results.items():
            result["error"] = relative(result["value"], exact)
            # an estimate of inf ("unknown") is honest, but bounds nothing
            result["bounded"] = abs(result["value"] - exact) <= result["estimate"] < math.inf
            rows[name].append(result)
        cells = [f"{results[m]['error']:12.1e}" if m in results else f"{'-':>12}" for m in rows]
        print(f"{text:18} {x:6.0e}  " + "  ".join(cells))
        sweep = numeric.sweep(problem, "central", STEPS, "float64")
        auto_vs_best.append(
            results["central"]["error"]
            / bottom_of_v([relative(float(o.value["x"]), exact) for o in sweep])
        )

    print()
    header = ("median rel", "worst rel", "evals", "µs/deriv", "est. bounds")
    print(f"{'method':14} " + " ".join(f"{h:>11}" for h in header))
    summary = {}
    for name, results in rows.items():
        errors = [r["error"] for r in results]
        summary[name] = {
            "median": statistics.median(errors),
            "worst": max(errors),
            "evaluations": statistics.mean(r["evaluations"] for r in results),
            "seconds": statistics.median(r["seconds"] for r in results),
            "bounded": sum(r["bounded"] for r in results) / len(results),
        }
        s = summary[name]
        print(
            f"{name:14} {s['median']:11.1e} {s['worst']:11.1e} {s['evaluations']:11.1f} "
            f"{s['seconds'] * 1e6:11.0f} {s['bounded']:11.0%}"
        )

    rich, ndt, sp = summary["richardson"], summary["numdifftools"], summary["scipy"]
    complex_rows = rows["complex-step"]
    within = sum(ratio <= 10 for ratio in auto_vs_best) / len(auto_vs_best)
    targets = [
        ("richardson median <= numdifftools median", rich["median"] <= ndt["median"]),
        ("richardson worst <= numdifftools worst", rich["worst"] <= ndt["worst"]),
        ("richardson median 10x better than scipy", rich["median"] * 10 <= sp["median"]),
        ("richardson worst 10x better than scipy", rich["worst"] * 10 <= sp["worst"]),
        (
            "richardson evaluations <= numdifftools / 2",
            rich["evaluations"] * 2 <= ndt["evaluations"],
        ),
        ("richardson time <= numdifftools / 10", rich["seconds"] * 10 <= ndt["seconds"]),
        ("complex-step worst <= 1e-15", max(r["error"] for r in complex_rows) <= 1e-15),
        (
            f"central auto step within 10x of best step in all cases (now {within:.0%})",
            within == 1.0,
        ),
        *(
            (
                f"{name} estimates bound the error in >= 95% of cases",
                summary[name]["bounded"] >= 0.95,
            )
            for name in OURS
        ),
    ]
    print()
    print(
        f"ratios: time numdifftools/richardson = {ndt['seconds'] / rich['seconds']:.1f}x, "
        f"evaluations numdifftools/richardson = {ndt['evaluations'] / rich['evaluations']:.1f}x, "
        f"median error scipy/richardson = {sp['median'] / max(rich['median'], 1e-17):.1f}x, "
        f"worst error scipy/richardson = {sp['worst'] / max(rich['worst'], 1e-17):.1e}x; "
        f"central auto/best step error: median {statistics.median(auto_vs_best):.1f}x, "
        f"worst {max(auto_vs_best):.1f}x"
    )
    for label, ok in targets:
        print(f"  {'PASS' if ok else 'FAIL'}  {label}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
