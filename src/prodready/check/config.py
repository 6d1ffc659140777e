"""Check configuration: `[tool.prodready]` in pyproject.toml, or `.prodready.toml` (which wins).

[tool.prodready]
ignore = ["PR104"]                       # rules never reported
exclude = ["examples/**", "tests/fixtures/**"]
fail-on = "warning"                      # error | warning | info | never
[tool.prodready.per-path-ignores]
"scripts/*.py" = ["PR113"]
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prodready.errors import InputError

KNOWN_KEYS = {"ignore", "exclude", "per-path-ignores", "fail-on"}
FAIL_ON = ("error", "warning", "info", "never")


@dataclass
class CheckConfig:
    ignore: set[str] = field(default_factory=set)
    exclude: list[str] = field(default_factory=list)
    per_path_ignores: dict[str, set[str]] = field(default_factory=dict)
    fail_on: str | None = None
    source: str | None = None


def load_config(root: Path, known_rules: set[str]) -> CheckConfig:
    dedicated = root / ".prodready.toml"
    pyproject = root / "pyproject.toml"
    if dedicated.is_file():
        table = _read(dedicated).get("tool", {}).get("prodready") or _read(dedicated)
        return _validated(table, dedicated.name, known_rules)
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8", errors="replace"))
        except tomllib.TOMLDecodeError:
            return CheckConfig()  # reported as a finding on pyproject.toml by the scan
        table = data.get("tool", {}).get("prodready")
        if isinstance(table, dict):
            return _validated(table, "pyproject.toml [tool.prodready]", known_rules)
    return CheckConfig()


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InputError(f"cannot read {path.name}: {error}", "fix the TOML syntax") from None


def _validated(table: dict[str, Any], source: str, known_rules: set[str]) -> CheckConfig:
    unknown = set(table) - KNOWN_KEYS
    if unknown:
        raise InputError(
            f"{source}: unknown setting {sorted(unknown)[0]!r}",
            f"known settings: {', '.join(sorted(KNOWN_KEYS))}",
        )
    config = CheckConfig(source=source)
    config.ignore = _rule_ids(table.get("ignore", []), source, "ignore", known_rules)
    config.exclude = _strings(table.get("exclude", []), source, "exclude")
    per_path = table.get("per-path-ignores", {})
    if not isinstance(per_path, dict):
        raise InputError(
            f"{source}: per-path-ignores must be a table", 'e.g. "tests/*" = ["PR113"]'
        )
    for pattern, ids in per_path.items():
        config.per_path_ignores[pattern] = _rule_ids(
            ids, source, f"per-path-ignores.{pattern}", known_rules
        )
    fail_on = table.get("fail-on")
    if fail_on is not None and fail_on not in FAIL_ON:
        raise InputError(f"{source}: fail-on must be one of {', '.join(FAIL_ON)}", None)
    config.fail_on = fail_on
    return config


def _strings(value: Any, source: str, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{source}: {key} must be a list of strings", f'e.g. {key} = ["..."]')
    return value


def _rule_ids(value: Any, source: str, key: str, known_rules: set[str]) -> set[str]:
    ids = set(_strings(value, source, key))
    unknown = sorted(ids - known_rules)
    if unknown:
        raise InputError(
            f"{source}: {key} names unknown rule {unknown[0]}",
            "`prodready rules` lists every rule id",
        )
    return ids
