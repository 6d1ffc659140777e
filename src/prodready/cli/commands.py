"""Which module holds each command. Each module exposes `register(app)`."""

from __future__ import annotations

import importlib
from collections.abc import Sequence

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


def register(app: typer.Typer, args: Sequence[str]) -> None:
    """Registers the module of the command `args` names, or every module when they name none
    (`--help`, a typo: the listing and "no such command" then show them all). Importing one
    command module instead of eleven keeps about 0.1 s off every run, which `backup` and
    `restore` are measured by against pg_dump and pg_restore."""
    named = next((arg for arg in args if not arg.startswith("-")), None)
    wanted = [COMMAND_MODULES[named]] if named in COMMAND_MODULES else COMMAND_MODULES.values()
    present = _registered_modules(app)
    for name in dict.fromkeys(wanted):  # in COMMAND_MODULES order: the order --help lists
        if name not in present:
            importlib.import_module(name).register(app)


def _registered_modules(app: typer.Typer) -> set[str]:
    """The command modules `app` has already: main() may run several command lines in one
    process (the in-process fuzzing does), each adding only what it is missing."""
    names = [info.name for info in (*app.registered_commands, *app.registered_groups)]
    return {COMMAND_MODULES[name] for name in names if name in COMMAND_MODULES}
