"""The CLI imports only the module of the command it runs, and still knows every command."""

from __future__ import annotations

import importlib
import subprocess
import sys

import typer

from prodready.cli.commands import COMMAND_MODULES
from tests.conftest import run_prodready
from tests.faults.inprocess import run_in_process


def _names_registered_by(module: str) -> set[str]:
    app = typer.Typer()
    importlib.import_module(module).register(app)
    commands = {info.name for info in app.registered_commands}
    groups = {info.name for info in app.registered_groups}
    return {name for name in commands | groups if name}


def test_every_command_maps_to_the_module_that_registers_it() -> None:
    registered: dict[str, str] = {}
    for module in set(COMMAND_MODULES.values()):
        for name in _names_registered_by(module):
            registered[name] = module
    assert registered == COMMAND_MODULES


def test_help_without_a_command_lists_every_command() -> None:
    completed = run_prodready("--help")
    assert completed.returncode == 0, completed.stderr
    listed = {
        line.split()[0]
        for line in completed.stdout.split("Commands:")[1].splitlines()
        if line.strip()
    }
    assert listed == set(COMMAND_MODULES)


def test_a_command_imports_only_its_own_module() -> None:
    probe = (
        "import sys\n"
        "sys.argv = ['prodready', 'rules', '--help']\n"
        "from prodready.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('prodready.cli.')))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = completed.stdout.strip().splitlines()[-1]
    assert "'prodready.cli.rules'" in loaded
    for other in set(COMMAND_MODULES.values()) - {"prodready.cli.rules"}:
        assert repr(other) not in loaded


def test_a_mistyped_command_is_refused_with_the_nearest_name() -> None:
    completed = run_prodready("bakup")
    assert completed.returncode == 2
    assert "No such command 'bakup'. Did you mean 'backup'?" in completed.stderr


def test_one_process_runs_command_lines_of_different_commands() -> None:
    """main() called again in the same process (as the in-process fuzzing does) adds the
    command each new command line names."""
    first = run_in_process("rules", "--help")
    second = run_in_process("init", "--help")
    again = run_in_process("rules", "--help")
    assert [first.code, second.code, again.code] == [0, 0, 0], second.stderr
    assert " init [OPTIONS] [directory]" in second.stdout
