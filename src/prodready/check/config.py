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

KNOWN_KEYS = {"ignore", "exclude", "per-path-ignores", "fail-on", "backup"}
"""`backup` is `prodready backup`'s own table (prodready.backup.config), not a check setting."""
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
    if dedicated.exists():
        data = _read(dedicated) or {}
        tool = _table(data, "tool", dedicated.name)
        if "prodready" in tool:
            table = _table(tool, "prodready", f"{dedicated.name} [tool]")
            return _validated(table, f"{dedicated.name} [tool.prodready]", known_rules)
        return _validated(data, dedicated.name, known_rules)
    if pyproject.exists():
        data = _read(pyproject, malformed_ok=True)
        if data is None:
            return CheckConfig()  # malformed: reported as a finding on pyproject.toml by the scan
        tool = _table(data, "tool", pyproject.name)
        if "prodready" in tool:
            table = _table(tool, "prodready", f"{pyproject.name} [tool]")
            return _validated(table, "pyproject.toml [tool.prodready]", known_rules)
    return CheckConfig()


def _read(path: Path, malformed_ok: bool = False) -> dict[str, Any] | None:
    """The file's TOML. A file we cannot open is an input error, not an empty config: the user
    asked for settings we would otherwise silently drop. With `malformed_ok`, content that is
    not UTF-8 TOML gives None (the scan reports it as a finding on that file)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(
            f"cannot read {path.name}: {error.strerror or error}",
            "make it a readable file, or remove it",
        ) from None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as error:
        if malformed_ok:
            return None
        reason = "nested too deeply" if isinstance(error, RecursionError) else str(error)
        raise InputError(f"cannot read {path.name}: {reason}", "fix the TOML syntax") from None


def _table(data: dict[str, Any], key: str, source: str) -> dict[str, Any]:
    """`data[key]` when it is a table (missing: empty); anything else is a config error."""
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise InputError(
            f"{source}: {key} must be a table, not {type(value).__name__} {value!r:.40}",
            "write it as [tool.prodready] with settings below it",
        )
    return value


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
