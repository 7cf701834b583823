"""The command line: options → Options → the library → a view. Only this package prints or
exits."""

from diffcli.cli.commands import main

__all__ = ["main"]
