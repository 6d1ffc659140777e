"""The Jinja2 environment the renderers share: templates from the package, strict undefined
names (a typo fails the render, never writes an empty value), no autoescaping (not HTML)."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined


@cache
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("prodready.generate", "templates"),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def render(template: str, **values: Any) -> str:
    return environment().get_template(template).render(**values)
