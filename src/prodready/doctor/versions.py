"""Installed versions of the servers and libraries prodready drives, against the ranges its
package metadata declares. Cheap: reads dist-info only, imports none of them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, requires, version

DRIVEN = ("gunicorn", "uvicorn", "granian", "prometheus-client", "structlog", "limits")
"""What prodready runs or reaches into: servers (hooks, workers) and the kit's libraries."""


@dataclass(frozen=True)
class Installed:
    name: str
    version: str | None
    """None when not installed."""
    supported: str
    """The range prodready declares, such as '>=25,<28'; '' when it declares none."""

    @property
    def in_range(self) -> bool:
        """True when installed and inside the supported range."""
        if self.version is None:
            return False
        if not self.supported:
            return True
        from packaging.specifiers import SpecifierSet

        return SpecifierSet(self.supported).contains(self.version, prereleases=True)

    @property
    def too_old(self) -> bool:
        """Installed, out of range, and below the range's lower bound."""
        if self.version is None or self.in_range:
            return False
        from packaging.specifiers import SpecifierSet

        lower = [s for s in SpecifierSet(self.supported) if s.operator in (">=", ">", "==")]
        return any(not s.contains(self.version, prereleases=True) for s in lower)


def installed(name: str) -> Installed:
    try:
        found: str | None = version(name)
    except PackageNotFoundError:
        found = None
    return Installed(name, found, supported_ranges().get(_normalise(name), ""))


@lru_cache(maxsize=1)
def supported_ranges() -> dict[str, str]:
    """Package name -> the specifier prodready declares for it (any extra)."""
    try:
        declared = requires("prodready") or []
    except PackageNotFoundError:
        return {}
    ranges: dict[str, str] = {}
    for line in declared:
        match = re.match(r"\s*([A-Za-z0-9._-]+)\s*(?:\[[^\]]*\])?\s*([^;]*)", line)
        if match and match.group(1).lower() != "prodready":
            parts = [part.strip() for part in match.group(2).split(",") if part.strip()]
            specifier = ",".join(sorted(parts, key=lambda part: not part.startswith((">", "="))))
            ranges.setdefault(_normalise(match.group(1)), specifier)
    return ranges


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def version_lines() -> list[str]:
    """`name version` for each driven package, for `prodready --version`."""
    lines = []
    for name in DRIVEN:
        found = installed(name)
        lines.append(f"{name} {found.version or 'not installed'}")
    return lines
