"""The options of a comparison: one frozen dataclass, checked once when it is built."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from diffcli.core.errors import OptionError
from diffcli.core.resources import DEFAULT_MEMORY_MIB, budget_bytes
from diffcli.lang.parse import Limits

METHODS = ("symbolic", "numeric", "autograd")
DEVICES = ("auto", "cpu", "cuda", "mps")
DTYPES = ("float64", "float32")
SCHEMES = ("central", "forward", "backward", "five-point", "richardson", "complex-step")
FORMATS = ("table", "json", "csv", "latex")
COMMANDS = ("grad", "jacobian", "hessian")
LAYOUTS = ("numerator", "denominator")
MODES = ("reverse", "forward")


@dataclass(frozen=True)
class Options:
    """How to compare: which methods, on which device, in which precision, how strictly."""

    command: str = "grad"
    wrt: tuple[str, ...] = ()
    order: int = 1
    methods: tuple[str, ...] = METHODS
    device: str = "auto"
    dtype: str = "float64"
    scheme: str = "central"
    step: float | None = None
    rtol: float | None = None
    atol: float | None = None
    layout: str = "numerator"
    mode: str = "reverse"
    timeout: float | None = 10.0  # seconds one comparison may take, shared by its stages
    closed_forms: bool = True  # matrix calculus: 0.1-0.2 s for each new matrix expression
    max_length: int = 10_000  # characters of an expression
    max_nodes: int = 5_000  # parts of an expression
    max_depth: int = 100  # levels of nesting
    max_entries: int = 100_000  # entries of one POINT value
    max_memory: float = DEFAULT_MEMORY_MIB  # MiB of working arrays (resources.py)

    def limits(self) -> Limits:
        """The parser's limits, as these options set them."""
        return Limits(
            max_length=self.max_length,
            max_nodes=self.max_nodes,
            max_depth=self.max_depth,
            max_entries=self.max_entries,
        )

    def __post_init__(self) -> None:
        _one_of("command", self.command, COMMANDS)
        _one_of("--layout", self.layout, LAYOUTS)
        _one_of("--mode", self.mode, MODES)
        _one_of("--device", self.device, DEVICES)
        _one_of("--dtype", self.dtype, DTYPES)
        _one_of("--scheme", self.scheme, SCHEMES)
        if not self.methods:
            raise OptionError("--methods: name at least one of symbolic, numeric, autograd")
        for name in self.methods:
            _one_of("--methods", name, METHODS)
        if self.order != 1 and self.command != "grad":
            raise OptionError(f"--order is for grad; {self.command} has its own order")
        if self.order != 1 and self.mode == "forward":
            raise OptionError("--order above 1 uses reverse mode; drop --mode forward")
        if self.step is not None and not (math.isfinite(self.step) and self.step > 0):
            raise OptionError(f"--step must be a positive number, got {self.step}")
        for flag, limit in (
            ("--max-length", self.max_length),
            ("--max-nodes", self.max_nodes),
            ("--max-depth", self.max_depth),
            ("--max-entries", self.max_entries),
        ):
            if limit < 1:
                raise OptionError(f"{flag} must be at least 1, got {limit}")
        budget_bytes(self.max_memory)
        if self.timeout is not None and not (math.isfinite(self.timeout) and self.timeout > 0):
            raise OptionError(f"--timeout must be a positive number of seconds, got {self.timeout}")
        for flag, value in (("--rtol", self.rtol), ("--atol", self.atol)):
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise OptionError(f"{flag} must be a number >= 0, got {value}")

    @classmethod
    def from_raw(
        cls,
        *,
        command: str = "grad",
        wrt: str | Sequence[str] | None = None,
        methods: str | Sequence[str] | None = None,
        **rest: object,
    ) -> Options:
        """Build from CLI-style values: comma-separated strings or sequences."""
        return cls(
            command=command,
            wrt=_names(wrt),
            methods=_names(methods) or METHODS,
            **rest,  # type: ignore[arg-type]
        )


def _names(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in items:
        item = item.strip()
        if item and item not in out:
            out.append(item)
    return tuple(out)


def _one_of(flag: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise OptionError(f"{flag} {value!r}: choose one of {', '.join(choices)}")
