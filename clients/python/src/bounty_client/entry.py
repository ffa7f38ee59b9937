"""The ``bounty`` command: the client's commands, and those of installed plugins.

A plugin is an entry point in the ``bounty.commands`` group naming a function that adds
commands to the root Typer app. The server's package registers its commands (``demo``,
``serve``, ``worker``, ``db``, ...) that way, so a participant's install has only the client's.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points

import typer

from bounty_client import organizer_commands, pair_commands, population_commands
from bounty_client.cli import register as register_client_commands

Plugin = Callable[[typer.Typer], None]

cli = typer.Typer(
    help="Bias Bounty: run and enter algorithmic bias bounties.", no_args_is_help=True
)
register_client_commands(cli)
pair_commands.register(cli)
organizer_commands.register()
population_commands.register(cli)
_added: set[Plugin] = set()


def with_plugin(plugin: Plugin) -> typer.Typer:
    """The command, with ``plugin``'s commands added (once)."""
    if plugin not in _added:
        _added.add(plugin)
        plugin(cli)
    return cli


def main() -> None:
    """Entry point of the ``bounty`` script."""
    for entry in entry_points(group="bounty.commands"):
        with_plugin(entry.load())
    cli()
