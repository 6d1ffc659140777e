"""The Gunicorn settings a project gives itself: what `gunicorn` would read when started there.

Gunicorn reads `gunicorn.conf.py` in its working directory, then `$GUNICORN_CMD_ARGS` over it
(then its own command line). `project_gunicorn_settings` returns those values, each with where
it was set, for `prodready serve` to honour. The file is read statically (never executed): a
value written as an expression (`int(os.environ["TIMEOUT"])`) is reported as unknown.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prodready.project.model import Project
from prodready.project.parsers import gunicorn

DEFAULT_CONFIG = "gunicorn.conf.py"
CMD_ARGS_ENV = "GUNICORN_CMD_ARGS"


@dataclass(frozen=True)
class ProjectValue:
    name: str
    value: Any
    """The literal value; None when the file sets it with an expression."""
    origin: str
    """`gunicorn.conf.py:4` or `GUNICORN_CMD_ARGS`."""
    expression: str = ""
    hook: bool = False
    """A server hook defined in the file (`def post_fork(server, worker): ...`)."""


def config_file(project: Project) -> gunicorn.GunicornConfig | None:
    """The config file Gunicorn would read: ./gunicorn.conf.py, else the only one found."""
    files = [c for c in project.gunicorn_configs if not c.from_command_line]
    default = next((c for c in files if c.rel == DEFAULT_CONFIG), None)
    return default or (files[0] if len(files) == 1 else None)


def project_gunicorn_settings(
    project: Project, environ: Mapping[str, str]
) -> dict[str, ProjectValue]:
    """Setting name -> the value the project gives it, $GUNICORN_CMD_ARGS over the file."""
    found: dict[str, ProjectValue] = {}
    config = config_file(project)
    if config is not None:
        for setting in config.settings.values():
            if setting.name.startswith("_") or setting.name.isupper():
                continue  # a helper variable of the file, not a setting
            found[setting.name] = ProjectValue(
                setting.name, setting.value, f"{config.rel}:{setting.line}", setting.source
            )
        for hook in sorted(config.hooks):
            found[hook] = ProjectValue(hook, None, config.rel, hook=True)
    args = environ.get(CMD_ARGS_ENV, "")
    try:
        words = shlex.split(args)
    except ValueError:
        words = args.split()
    for setting in gunicorn.from_argv(CMD_ARGS_ENV, words, 0).settings.values():
        found[setting.name] = ProjectValue(setting.name, setting.value, CMD_ARGS_ENV)
    return found
