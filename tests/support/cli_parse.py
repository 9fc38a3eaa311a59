"""Resolve and parse ``aiops-lab ARGS`` exactly as the CLI would, without running it: docs and runbooks
quote commands, and a renamed option must fail a test, not a learner."""

from __future__ import annotations

import importlib

import click

from labs.cli.main import COMMANDS


def parse_cli(args: list[str], where: str = "") -> None:
    """Raise ``AssertionError`` for an unknown command, click's ``UsageError``/``BadParameter`` for a bad
    option or value. ``where`` prefixes the message (the doc the command came from)."""
    prefix = f"{where}: " if where else ""
    noun, rest = args[0], args[1:]
    assert noun in COMMANDS, f"{prefix}aiops-lab has no command {noun!r}"
    module, attr, _ = COMMANDS[noun]
    command: click.Command = getattr(importlib.import_module(module), attr)
    while isinstance(command, click.Group) and rest:
        sub = command.commands.get(rest[0])
        assert sub is not None, f"{prefix}aiops-lab {noun} has no command {rest[0]!r}"
        command, rest = sub, rest[1:]
    command.make_context(noun, list(rest))
