"""core/options.py: one declaration per option, from which the click options of every
command, the API's keyword arguments and batch's columns are all made."""

from __future__ import annotations

import inspect

import click
import pytest

import diffcli
from diffcli.cli import main
from diffcli.core.errors import DiffcliError
from diffcli.core.options import DECLARED, EVERY, FIELDS, Options
from diffcli.features.batch import COLUMNS

PAIRS = [(command, option) for command in EVERY for option in DECLARED.values()]


def _value(option) -> list[str]:
    """A value to give the option on the command line (none for a flag)."""
    if option.kind is bool:
        return []
    if option.choices:
        return [option.choices[-1]]
    return {int: ["3"], float: ["2.5"]}.get(option.kind, ["x"])


@pytest.mark.parametrize(("command", "option"), PAIRS, ids=[f"{c}-{o.name}" for c, o in PAIRS])
def test_every_command_takes_its_options_and_refuses_the_others_by_name(cli, command, option):
    params = {p.name: p for p in main.commands[command].params}
    flag = option.spelling.split("/")[0]
    if command in option.commands:
        assert option.name in params, f"{command} lacks {flag}"
        given = params[option.name]
        assert set(given.opts) | set(given.secondary_opts) == set(option.spelling.split("/"))
        if command not in option.required_in:
            assert _parsed_defaults(command)[option.name] == _click_default(option, command)
        if option.choices:
            assert tuple(given.type.choices) == option.choices_for(command)
        return
    assert option.name not in params
    result = cli(command, "sin(x)", flag, *_value(option))
    assert result.exit_code == 2
    owners = option.commands
    expected = f"diffcli: error: {command} takes no {flag}: it is an option of "
    assert result.stderr.startswith(expected), result.stderr
    assert all(owner in result.stderr for owner in owners)
    assert result.stderr.count("\n") == 1 and result.stdout == ""


def _parsed_defaults(command: str) -> dict:
    """What the command's function receives when only the required arguments are given."""
    arguments = {"batch": ["cases.csv"], "demo": [], "shell": []}.get(command, ["sin(x)"])
    for option in DECLARED.values():
        if command in option.required_in:
            arguments += [option.spelling, "1"]
    return main.commands[command].make_context(command, arguments).params


def _click_default(option, command):
    default = option.choices_for(command)[0] if option.choices_in.get(command) else option.default
    default = option.defaults_in.get(command, default)
    if isinstance(default, tuple):
        return ",".join(default)
    return False if default is None and option.kind is bool else default


def test_the_defaults_live_in_the_declarations():
    for name in FIELDS - {"command", "wrt"}:
        assert getattr(Options(), name) == DECLARED[name].default, name


def test_the_api_takes_every_option_of_a_comparison_by_name():
    signature = inspect.signature(diffcli.compare)
    assert set(signature.parameters) == {"expression", "at"} | FIELDS
    for name in FIELDS - {"command", "wrt"}:
        assert signature.parameters[name].default == DECLARED[name].default
    comparison = diffcli.compare("exp(x)", "1", scheme="five-point", mode="forward", rtol=1e-6)
    assert comparison.options.scheme == "five-point" and comparison.agree
    with pytest.raises(DiffcliError, match="no option 'colour'"):
        diffcli.compare("x", "1", colour="red")


def test_a_batch_row_may_set_every_option_of_a_comparison():
    from diffcli.features.batch import ROW_OPTIONS

    for option in DECLARED.values():
        comparing = set(option.commands) & {"grad", "jacobian", "hessian"}
        assert (option.name in ROW_OPTIONS) == (option.name in FIELDS and bool(comparing))
    assert set(ROW_OPTIONS) <= set(COLUMNS)


def test_over_refuses_options_it_would_ignore(cli):
    for extra in (["--mode", "forward"], ["--full"], ["--order", "2"], ["--no-closed-forms"]):
        result = cli("grad", "sin(x)", "--over", "x=0:1:11", *extra)
        assert result.exit_code == 2, extra
        assert result.stderr == f"diffcli: error: --over does not use {extra[0]}\n".replace(
            "--no-closed-forms", "--closed-forms"
        )


def test_a_wrong_format_for_over_is_refused(cli):
    result = cli("grad", "sin(x)", "--over", "x=0:1:11", "--format", "csv")
    assert result.exit_code == 2
    assert result.stderr == "diffcli: error: --over prints a table or json, not csv\n"


def test_help_shows_each_declared_option_with_its_help():
    for command in EVERY:
        text = main.commands[command].get_help(click.Context(main.commands[command]))
        for option in DECLARED.values():
            if command in option.commands and not option.hidden:
                assert option.spelling.split("/")[0] in text, (command, option.name)


BAD_VALUES = {"step": "0", "rtol": "-1", "atol": "-1e-3", "timeout": "0", "max_memory": "8"}


@pytest.mark.parametrize("option", [o for o in DECLARED.values() if o.check], ids=lambda o: o.name)
def test_every_declared_check_refuses_a_bad_value_by_the_option_s_name(cli, option):
    bad = BAD_VALUES.get(option.name, "0")
    for command in option.commands:
        if command in ("grad", "jacobian", "hessian"):
            result = cli(command, "x**2", "--at", "1", option.spelling, bad)
            assert result.exit_code == 2
            assert result.stderr.startswith(f"diffcli: error: {option.spelling} "), result.stderr
            assert result.stderr.rstrip().endswith(f"got {float(bad):g}")
    assert option.check(option.default) is None  # the default passes its own check
