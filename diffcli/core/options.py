"""Every option, declared once: its name, type, default, help and the commands that take it.

The click options of each command (cli/), the keyword arguments of the API (core/api.py) and
the columns a batch row may set (features/batch.py) are all made from DECLARED, so a default
or a choice cannot differ between them. `Options` is what one comparison runs with; it takes
its defaults from DECLARED and checks every value once, when it is built.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from diffcli.core.errors import OptionError
from diffcli.core.resources import DEFAULT_MEMORY_MIB, MIN_MEMORY_MIB
from diffcli.lang.parse import Limits

METHODS = ("symbolic", "numeric", "autograd")
DEVICES = ("auto", "cpu", "cuda", "mps")
DTYPES = ("float64", "float32")
SCHEMES = ("central", "forward", "backward", "five-point", "richardson", "complex-step")
FORMATS = ("table", "json", "csv", "latex")
COMMANDS = ("grad", "jacobian", "hessian")
LAYOUTS = ("numerator", "denominator")
MODES = ("reverse", "forward")
COMPARING = COMMANDS  # the commands that run one comparison
BOUNDED = (*COMPARING, "stepsize", "graph", "check", "explain", "batch")  # take --timeout
EVERY = (*BOUNDED, "cost", "demo", "shell")
PLAIN = ("demo", "shell")  # commands with no output format of their own


def positive(value: float | None) -> str | None:
    """A step, a time: a positive number (None: not set)."""
    ok = value is None or (math.isfinite(value) and value > 0)
    return None if ok else "must be a positive number"


def seconds(value: float | None) -> str | None:
    """--timeout: a positive number of seconds (None: no bound)."""
    return None if positive(value) is None else "must be a positive number of seconds"


def not_negative(value: float | None) -> str | None:
    """A tolerance: a number >= 0 (None: the method's own)."""
    return (
        None if value is None or (math.isfinite(value) and value >= 0) else "must be a number >= 0"
    )


def at_least_one(value: int) -> str | None:
    """A limit: at least 1."""
    return None if value >= 1 else "must be at least 1"


def memory_budget(value: float) -> str | None:
    """--max-memory: at least 16 MiB (core/resources.py)."""
    return None if math.isfinite(value) and value >= MIN_MEMORY_MIB else "must be at least 16 (MiB)"


@dataclass(frozen=True)
class Declared:
    """One option. `name` is its Python name (an Options field, an API keyword, a batch
    column); `flag` is how the command line spells it (default: --name-with-dashes)."""

    name: str
    help: str
    commands: tuple[str, ...]
    default: Any = None
    kind: type = str
    choices: tuple[str, ...] = ()
    metavar: str | None = None
    flag: str | None = None
    required_in: tuple[str, ...] = ()
    hidden: bool = False
    helps: Mapping[str, str] = field(default_factory=dict)  # per command, where it differs
    choices_in: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # ditto
    defaults_in: Mapping[str, Any] = field(default_factory=dict)  # ditto, said in the help
    check: Callable[[Any], str | None] | None = None  # what is wrong with a value, if anything

    @property
    def spelling(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    def help_for(self, command: str) -> str:
        return self.helps.get(command, self.help)

    def choices_for(self, command: str) -> tuple[str, ...]:
        return self.choices_in.get(command, self.choices)


_DECLARED = (
    Declared(
        "at",
        "Values of the variables: x=1,y=[1,2] or a bare number for one variable.",
        (*COMPARING, "stepsize", "graph", "check"),
        metavar="POINT",
        required_in=("stepsize", "graph"),
        helps={"check": "Shapes of array variables (default: scalars)."},
    ),
    Declared(
        "wrt",
        "Comma-separated variables to differentiate by (default: all).",
        (*COMPARING, "stepsize", "graph", "check", "explain"),
        metavar="VARS",
        helps={
            "check": "The variable (needed when EXPR has several).",
            "explain": "The variable (needed when EXPR has several).",
        },
    ),
    Declared(
        "order",
        "K-th derivative (one scalar variable).",
        ("grad", "stepsize"),
        default=1,
        kind=int,
        metavar="K",
    ),
    Declared(
        "over", "f' at N points from A to B (one scalar variable).", ("grad",), metavar="X=A:B:N"
    ),
    Declared(
        "values_file",
        "With --over: every point's values (.csv, .npy).",
        ("grad",),
        metavar="FILE",
        flag="--values",
    ),
    Declared(
        "plot_file",
        "With --over: f, f' and the errors.",
        ("grad", "stepsize"),
        metavar="FILE.png",
        flag="--plot",
        helps={"stepsize": "Also draw the plot with matplotlib."},
    ),
    Declared(
        "layout",
        "numerator: outputs first (torch, the course); denominator: inputs first (SymPy).",
        ("jacobian",),
        default="numerator",
        choices=LAYOUTS,
    ),
    Declared(
        "methods",
        "Which methods to run, comma-separated.",
        (*COMPARING, "batch"),
        default=METHODS,
    ),
    Declared(
        "device",
        "Autograd device (auto: cuda if available).",
        (*COMPARING, "graph", "batch"),
        default="auto",
        choices=DEVICES,
    ),
    Declared(
        "dtype",
        "Working precision of autograd and finite differences.",
        (*COMPARING, "stepsize", "batch"),
        default="float64",
        choices=DTYPES,
    ),
    Declared("scheme", "Finite-difference scheme.", COMPARING, default="central", choices=SCHEMES),
    Declared(
        "step",
        "Finite-difference step (default: chosen per scheme).",
        COMPARING,
        kind=float,
        metavar="H",
        check=positive,
    ),
    Declared(
        "rtol",
        "Relative agreement tolerance (default: per method).",
        (*COMPARING, "batch"),
        kind=float,
        check=not_negative,
        metavar="R",
    ),
    Declared(
        "atol",
        "Absolute agreement tolerance (default: per method).",
        (*COMPARING, "batch"),
        kind=float,
        check=not_negative,
        metavar="A",
    ),
    Declared(
        "mode",
        "Autograd: reverse (a backward pass per output) or forward (a pass per input).",
        (*COMPARING, "graph"),
        default="reverse",
        choices=MODES,
        helps={
            "graph": "reverse: adjoints from the output back; forward: tangents from one input."
        },
    ),
    Declared(
        "full",
        "Print large results in full (JSON always is).",
        COMPARING,
        default=False,
        kind=bool,
    ),
    Declared(
        "timeout",
        "Time the comparison may take, shared by its stages (the reference, each method): "
        "the others still answer when one runs out.",
        BOUNDED,
        default=10.0,
        kind=float,
        metavar="SECONDS",
        check=seconds,
        helps={
            "stepsize": "Time the whole study may take; schemes not reached by then are skipped.",
            "graph": "Time the command may take; past it, it stops with exit 1.",
            "check": "Time the command may take; past it, it stops with exit 1.",
            "explain": "Time the command may take; past it, it stops with exit 1.",
            "batch": "Time each row may take, shared by its stages (the reference, each method).",
        },
    ),
    Declared(
        "closed_forms",
        "Matrix calculus: the gradient as a matrix formula (2*X.T*(X*w - y)), 0.1-0.2 s more "
        "for each new matrix expression.",
        (*COMPARING, "batch"),
        default=True,
        kind=bool,
        flag="--closed-forms/--no-closed-forms",
        # a file of many matrix expressions would take three times as long with them
        defaults_in={"batch": False},
        helps={
            "batch": "Add matrix-calculus closed forms (2*X.T*(X*w - y)) to the records: "
            "0.1-0.2 s more for each new matrix expression, so off unless asked for (a "
            "closed_forms column sets it per row)."
        },
    ),
    Declared(
        "max_length",
        "Longest expression accepted, in characters.",
        (*COMPARING, "batch"),
        default=10_000,
        kind=int,
        metavar="N",
        check=at_least_one,
    ),
    Declared(
        "max_nodes",
        "Most parts an expression may have.",
        (*COMPARING, "batch"),
        default=5_000,
        kind=int,
        metavar="N",
        check=at_least_one,
    ),
    Declared(
        "max_depth",
        "Deepest nesting accepted.",
        (*COMPARING, "batch"),
        default=100,
        kind=int,
        metavar="N",
        check=at_least_one,
    ),
    Declared(
        "max_entries",
        "Most entries of one value in POINT.",
        (*COMPARING, "batch"),
        default=100_000,
        kind=int,
        metavar="N",
        check=at_least_one,
    ),
    Declared(
        "max_memory",
        "Memory budget of the working arrays, in MiB; larger work runs in chunks.",
        (*COMPARING, "batch"),
        default=DEFAULT_MEMORY_MIB,
        kind=float,
        metavar="MIB",
        check=memory_budget,
    ),
    Declared(
        "python",
        "Differentiate a Python function of torch tensors instead (this runs FILE).",
        (*COMPARING, "graph"),
        metavar="FILE:FUNC",
        helps={"graph": "Trace a Python function instead (runs FILE)."},
    ),
    Declared(
        "answer",
        "Your derivative, to be checked.",
        ("check",),
        metavar="ANSWER",
        required_in=("check",),
    ),
    Declared(
        "sizes",
        "Lengths of the vector variable: from where the fixed cost per call is small to where "
        "the slow methods pass the budget.",
        ("cost",),
        default="10,30,100,300,1000,3000,10000,30000,100000",
        metavar="N1,N2,...",
        flag="--n",
    ),
    Declared(
        "budget",
        "Time each method may take at each size; past it, it is over budget (and not run at "
        "larger sizes).",
        ("cost",),
        default=2.0,
        kind=float,
        metavar="SECONDS",
    ),
    Declared(
        "jobs",
        "Worker processes (default: the machine's cores).",
        ("batch",),
        kind=int,
        metavar="N",
    ),
    Declared("show_list", "List the demos.", ("demo",), default=False, kind=bool, flag="--list"),
    Declared(
        "history",
        "File the shell keeps its history in, across sessions (default: "
        "~/.local/state/diffcli/history, or $DIFFCLI_HISTORY).",
        ("shell",),
        metavar="FILE",
    ),
    Declared(
        "output_format",
        "Output format.",
        tuple(c for c in EVERY if c not in PLAIN),
        default="table",
        choices=FORMATS,
        flag="--format",
        choices_in={
            "stepsize": ("table", "json"),
            "graph": ("table", "dot", "mermaid", "json", "svg", "png"),
            "check": ("table", "json"),
            "explain": ("text", "latex"),
            "cost": ("table", "json"),
            "batch": ("auto", "table", "json", "csv"),
        },
        helps={"batch": "auto: a summary table on a terminal, JSON Lines otherwise."},
    ),
    Declared(
        "traceback",
        "Re-raise errors (for debugging).",
        tuple(c for c in EVERY if c not in PLAIN),
        default=False,
        kind=bool,
        hidden=True,
    ),
)
DECLARED: dict[str, Declared] = {option.name: option for option in _DECLARED}


def default_of(name: str, command: str | None = None) -> Any:
    """The declared default: the command's own where it has one; for choices that depend
    on the command, its first choice."""
    option = DECLARED[name]
    if command is not None and command in option.defaults_in:
        return option.defaults_in[command]
    if command is not None and command in option.choices_in:
        return option.choices_in[command][0]
    return option.default


def declared_for(command: str) -> list[Declared]:
    """The options `command` takes, in declaration order."""
    return [option for option in _DECLARED if command in option.commands]


def users_of(name: str) -> tuple[str, ...]:
    """The commands that take option `name`."""
    return DECLARED[name].commands


@dataclass(frozen=True)
class Options:
    """How to compare: which methods, on which device, in which precision, how strictly."""

    command: str = "grad"
    wrt: tuple[str, ...] = ()
    order: int = default_of("order")
    methods: tuple[str, ...] = default_of("methods")
    device: str = default_of("device")
    dtype: str = default_of("dtype")
    scheme: str = default_of("scheme")
    step: float | None = default_of("step")
    rtol: float | None = default_of("rtol")
    atol: float | None = default_of("atol")
    layout: str = default_of("layout")
    mode: str = default_of("mode")
    timeout: float | None = default_of("timeout")  # shared by a comparison's stages
    closed_forms: bool = default_of("closed_forms")
    max_length: int = default_of("max_length")
    max_nodes: int = default_of("max_nodes")
    max_depth: int = default_of("max_depth")
    max_entries: int = default_of("max_entries")
    max_memory: float = default_of("max_memory")  # MiB of working arrays (resources.py)

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
        for name in ("layout", "mode", "device", "dtype", "scheme"):
            _one_of(DECLARED[name].spelling, getattr(self, name), DECLARED[name].choices)
        if not self.methods:
            raise OptionError("--methods: name at least one of symbolic, numeric, autograd")
        for name in self.methods:
            _one_of("--methods", name, METHODS)
        if self.order != 1 and self.command != "grad":
            raise OptionError(f"--order is for grad; {self.command} has its own order")
        if self.order != 1 and self.mode == "forward":
            raise OptionError("--order above 1 uses reverse mode; drop --mode forward")
        for name in FIELDS:
            check_value(name, getattr(self, name))

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
        unknown = sorted(set(rest) - FIELDS)
        if unknown:
            raise OptionError(
                f"no option {unknown[0]!r}; the options are {', '.join(sorted(FIELDS))}"
            )
        return cls(
            command=command,
            wrt=_names(wrt),
            methods=_names(methods) or METHODS,
            **rest,  # type: ignore[arg-type]
        )


FIELDS = frozenset(f.name for f in fields(Options))


def check_value(name: str, value: Any) -> None:
    """Raise OptionError where the declaration of option `name` says `value` is wrong."""
    option = DECLARED.get(name)
    problem = option.check(value) if option is not None and option.check else None
    if problem is not None:
        raise OptionError(f"{option.spelling} {problem}, got {value:g}")  # type: ignore[union-attr]


def check_timeout(timeout: float | None) -> None:
    """--timeout is a positive number of seconds (or None: no bound)."""
    check_value("timeout", timeout)


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
