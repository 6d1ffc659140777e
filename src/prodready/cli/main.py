"""The `prodready` console script: wires each command module into one typer app.

Each command lives in its own module and only parses options, calls the core and renders.
`UserError` anywhere below becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import sys

import typer

from prodready import __version__
from prodready.errors import EXIT_USAGE, UserError

app = typer.Typer(
    name="prodready",
    help="Take a Python web service from app.run() to production, and prove it got there.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from prodready.doctor.versions import version_lines

        python = ".".join(map(str, sys.version_info[:3]))
        lines = [f"prodready {__version__}", f"python {python}", *version_lines()]
        typer.echo("\n".join(lines))
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_version,
        is_eager=True,
        help="Print the versions of prodready and of what it drives, and exit.",
    ),
) -> None:
    """Take a Python web service from app.run() to production, and prove it got there."""


def _register() -> None:
    """Adds the commands the command line needs. Imported here so `--version` stays cheap."""
    from prodready.cli import commands

    commands.register(app, sys.argv[1:])


def print_user_error(error: UserError) -> None:
    """Prints a UserError as one line (and its hint) on stderr."""
    sys.stderr.write(f"error: {error.message}\n")
    if error.hint:
        sys.stderr.write(f"hint: {error.hint}\n")


def main() -> None:
    _register()
    try:
        app(standalone_mode=True)
    except UserError as error:
        print_user_error(error)
        sys.exit(EXIT_USAGE)


if __name__ == "__main__":
    main()
