"""The command-line side of core/options.py: each command's click options made from the
declarations, the command class that refuses another command's option by name, and the
mapping of errors to one line on stderr and an exit status."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import click

from diffcli.cli.outlet import error
from diffcli.core.errors import DiffcliError, ExitStatus
from diffcli.core.isolate import Stuck
from diffcli.core.options import DECLARED, Declared, declared_for, default_of


class DiffcliCommand(click.Command):
    """A diffcli command. An option of another command is refused by name ("grad takes no
    --layout: it is an option of jacobian"), and since EXPR may start with a minus, which
    click reads as an option, its 'No such option' says how to pass such an expression."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as unknown:
            name = unknown.option_name
            owner = _declared_by_flag(name)
            if owner is not None:
                raise Refused(
                    f"{self.name} takes no {name}: it is an option of {_listed(owner.commands)}",
                    ctx,
                ) from None
            message = unknown.format_message()
            if not name.startswith("--"):
                message += (
                    f" (an expression that starts with '-', such as {name}, goes after --: "
                    f'diffcli {self.name} ... -- "{name}", or in parentheses: "({name})")'
                )
            raise Refused(f"{self.name}: {message}", ctx) from None
        except click.UsageError as wrong:  # click's three lines of usage, as diffcli's one
            if isinstance(wrong, Refused):
                raise
            raise Refused(f"{self.name}: {wrong.format_message()}", ctx) from None


class DiffcliGroup(click.Group):
    """The diffcli command: an unknown command is one line too, with click's suggestion."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args:  # the help, as click shows it for a bare `diffcli`
            return super().parse_args(ctx, args)
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as wrong:
            raise Refused(wrong.format_message(), ctx) from None

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as wrong:
            raise Refused(wrong.format_message(), ctx) from None


class Refused(click.UsageError):
    """A command line click cannot read (another command's option, an unknown one, a
    missing value): one line, exit 2."""

    def show(self, file: Any = None) -> None:
        error(f"diffcli: error: {self.format_message()}")


def declared_options(command: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a command's function with the click options `command` takes."""

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(declared_for(command)):
            function = _click_option(option, command)(function)
        return function

    return decorate


def given(name: str) -> bool:
    """Whether the user wrote option `name` on the command line (not its default)."""
    source = click.get_current_context().get_parameter_source(name)
    return source is click.core.ParameterSource.COMMANDLINE


def reported(command: Callable[..., Any]) -> Callable[..., Any]:
    """Bad input (DiffcliError) to one line on stderr and exit 2; user code that never
    returned to exit 1; anything else is a bug of diffcli's: one line, exit 1, no traceback
    (unless --traceback)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except DiffcliError as problem:
            if kwargs.get("traceback"):
                raise
            error(f"diffcli: error: {problem.render()}")
            sys.exit(ExitStatus.BAD_INPUT)
        except Stuck as stuck:
            error(f"diffcli: error: {stuck}")
            sys.exit(ExitStatus.FAILED)
        except Exception as failure:
            if kwargs.get("traceback"):
                raise
            text = str(failure).strip().splitlines()
            error(
                f"diffcli: internal error: {type(failure).__name__}: {text[0] if text else ''} "
                "(a bug: --traceback shows where)"
            )
            sys.exit(ExitStatus.FAILED)

    return wrapper


def _click_option(option: Declared, command: str) -> Callable[..., Any]:
    spelling = option.spelling
    settings: dict[str, Any] = {
        "help": option.help_for(command),
        "hidden": option.hidden,
        "required": command in option.required_in,
    }
    default = default_of(option.name, command)
    choices = option.choices_for(command)
    if option.kind is bool and "/" not in spelling:
        settings["is_flag"] = True
    elif choices:
        settings["type"] = click.Choice(choices)
    elif option.kind is not str:
        settings["type"] = option.kind
    if default not in (None, False):
        settings["default"] = ",".join(default) if isinstance(default, tuple) else default
        settings["show_default"] = True
    if option.metavar:
        settings["metavar"] = option.metavar
    return click.option(spelling, option.name, **settings)


def _declared_by_flag(flag: str) -> Declared | None:
    for option in DECLARED.values():
        spellings = option.spelling.split("/")
        if flag in spellings:
            return option
    return None


def _listed(commands: tuple[str, ...]) -> str:
    return commands[0] if len(commands) == 1 else ", ".join(commands[:-1]) + " and " + commands[-1]
