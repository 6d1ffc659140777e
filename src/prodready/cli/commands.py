"""The list of command modules. Each module exposes `register(app)`."""

from __future__ import annotations

import importlib

import typer

COMMAND_MODULES = [
    "prodready.cli.check",
    "prodready.cli.init",
    "prodready.cli.serve",
    "prodready.cli.load",
    "prodready.cli.deploy",
    "prodready.cli.rules",
    "prodready.cli.doctor",
    "prodready.cli.backup",
    "prodready.cli.db",
    "prodready.cli.monitor",
    "prodready.cli.verify",
]


def register(app: typer.Typer) -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)
