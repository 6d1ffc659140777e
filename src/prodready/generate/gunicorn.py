"""gunicorn.conf.py from `prodready serve`'s plan: its worker class, threads, timeouts,
keep-alive and recycling, with its reasons as comments; the worker count is computed where the
file runs, with the plan's formula."""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass

from prodready.generate.artifact import Kind, Rendered
from prodready.generate.context import DeployContext
from prodready.generate.serverdeps import render_server_requirements
from prodready.generate.templates import render

PATH = "gunicorn.conf.py"
COMMENT_WIDTH = 86
"""With "# ", within ruff's and black's default line length (88): the file is the user's."""


@dataclass(frozen=True)
class Line:
    name: str
    value: str
    why: list[str]


def render_gunicorn(ctx: DeployContext) -> list[Rendered]:
    if ctx.asgi:
        formula = "max(2, _usable_cpus())"
        workers_why = "one event loop per usable CPU, at least 2 so a reload leaves one serving"
    else:
        formula = "max(2, _usable_cpus() + 1)"
        workers_why = "usable CPUs + 1 (GIL-bound part + kernel time), at least 2"
    settings = [
        Line(s.name, _literal(s.value), textwrap.wrap(s.why, COMMENT_WIDTH)) for s in ctx.server
    ]
    text = render(
        "gunicorn.conf.py.j2",
        name=ctx.name,
        target=ctx.target,
        port=ctx.port,
        uses_kit=ctx.probes.uses_kit,
        workers_formula=formula,
        workers_why=workers_why,
        settings=settings,
    )
    return [
        Rendered(Kind.GUNICORN, PATH, text),
        *render_server_requirements(ctx.worker_class, ctx.dependencies),
    ]


def _literal(value: object) -> str:
    """Python source for a setting's value, quoted the way ruff format would."""
    return json.dumps(value) if isinstance(value, str) else repr(value)
