"""Which module holds each command. Each module exposes `register(app)`."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from weakref import WeakKeyDictionary

import typer

COMMAND_MODULES: dict[str, str] = {
    "check": "prodready.cli.check",
    "init": "prodready.cli.init",
    "serve": "prodready.cli.serve",
    "reload": "prodready.cli.serve",
    "load": "prodready.cli.load",
    "deploy": "prodready.cli.deploy",
    "rollback": "prodready.cli.deploy",
    "rules": "prodready.cli.rules",
    "doctor": "prodready.cli.doctor",
    "backup": "prodready.cli.backup",
    "restore": "prodready.cli.backup",
    "db": "prodready.cli.db",
    "monitor": "prodready.cli.monitor",
    "verify": "prodready.cli.verify",
}


_registered: WeakKeyDictionary[typer.Typer, set[str]] = WeakKeyDictionary()
"""The command modules already added to each app: main() may run several command lines in one
process (the in-process fuzzing does), each adding what it names."""


def register(app: typer.Typer, args: Sequence[str]) -> None:
    """Registers the module of the command `args` names, or every module when they name none
    (`--help`, a typo: the listing and "no such command" then show them all). Importing one
    command module instead of eleven keeps about 0.1 s off every run, which `backup` and
    `restore` are measured by against pg_dump and pg_restore."""
    named = next((arg for arg in args if not arg.startswith("-")), None)
    wanted = [COMMAND_MODULES[named]] if named in COMMAND_MODULES else COMMAND_MODULES.values()
    done = _registered.setdefault(app, set())
    for name in dict.fromkeys(wanted):
        if name not in done:
            importlib.import_module(name).register(app)
            done.add(name)
