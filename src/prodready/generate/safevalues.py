"""What init accepts into a generated file. Every value written into nginx, compose, systemd,
Kubernetes or a Dockerfile is either validated here or comes from prodready itself: a `;`, a
brace, a quote or a newline in a host name or a route would otherwise write config the user
never asked for (`x.com; } server { root /; } #` used to become a second server block).

Plain regular expressions: RFC 1123 host names and URL path characters are small, stable
grammars, and no library check matches what nginx accepts in `server_name` (wildcards)."""

from __future__ import annotations

import re

from prodready.errors import UsageError

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOST_NAME = re.compile(
    rf"(?:\*\.|\.)?{_LABEL}(?:\.{_LABEL})*\.?"  # `*.example.com`, `.example.com`
    rf"|{_LABEL}(?:\.{_LABEL})*\.\*"  # `www.example.*`
)
"""Paths written into nginx `location` lines and probe commands: no quote, space, `;`, brace or
`$` that nginx, a shell or Python would read as syntax."""
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def server_name(name: str) -> str:
    """The `--server-name`: one host name as RFC 1123 spells it, with the wildcards nginx's
    server_name allows; anything else is refused before a file is written."""
    if not name.strip():
        raise UsageError(
            "--server-name is empty", "give the public host name, e.g. app.example.com"
        )
    if len(name) > 253 or not HOST_NAME.fullmatch(name):
        raise UsageError(
            f"--server-name {name[:80]!r} is not a host name",
            "letters, digits, '-' and '.', e.g. app.example.com or *.example.com",
        )
    return name


def is_env_name(name: str) -> bool:
    return bool(ENV_NAME.fullmatch(name))
