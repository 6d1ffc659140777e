"""The `prodready` console script, safe to run from the runtime-only install.

`pip install prodready` (an app's dependency) brings the runtime kit without the CLI's
dependencies; the script still exists there, so it says what to install instead of a traceback.
"""

from __future__ import annotations

import sys

from prodready.errors import EXIT_USAGE

CLI_ONLY_MODULES = frozenset(
    {
        "typer", "click", "rich", "jinja2", "gunicorn", "uvicorn", "uvicorn_worker", "granian",
        "uvloop", "httptools", "hdrh", "dockerfile_parse", "crossplane", "yaml", "psycopg",
        "redis", "packaging", "sqlalchemy", "pymysql",
    }
)  # fmt: skip
"""Top-level modules of the `cli` extra's distributions."""


def main() -> None:
    try:
        from prodready.cli.main import main as run_cli

        run_cli()
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] not in CLI_ONLY_MODULES:
            raise
        sys.stderr.write(
            f"error: the prodready command needs its CLI dependencies (no module {error.name})\n"
            "hint: pipx install 'prodready[cli]' (or uv tool install 'prodready[cli]'); "
            "`pip install prodready` is the runtime kit for apps\n"
        )
        sys.exit(EXIT_USAGE)
