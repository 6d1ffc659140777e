"""Gatus's endpoint `conditions`, read into the monitor's own keys, so a Gatus YAML config
runs as it is for the conditions that have an equivalent:

    [STATUS] == 200, [STATUS] == any(200, 204)   -> expect_status
    [RESPONSE_TIME] < 300                          -> max_latency (milliseconds)
    [BODY].status == UP, [BODY].items[0].id == 1   -> json_path + json_equals
    [BODY] == pat(*ok*)                            -> body_regex
    [CERTIFICATE_EXPIRATION] > 48h                 -> min_cert_days
    [CONNECTED] == true                            -> (what every check already requires)

Anything else is refused with the condition named, rather than silently not checked."""

from __future__ import annotations

import fnmatch
import re
from typing import Any

from prodready.monitor.durations import parse_duration

_CONDITION = re.compile(r"^\s*(\[[A-Z_]+\](?:[.\[][^\s=<>!]*)?)\s*(==|<|<=|>|>=)\s*(.+?)\s*$")


def translate(conditions: list[Any]) -> tuple[dict[str, Any], list[tuple[int, str]]]:
    """Our keys from Gatus conditions, and (index, why) for each condition that has none."""
    keys: dict[str, Any] = {}
    refused: list[tuple[int, str]] = []
    for index, condition in enumerate(conditions):
        try:
            found = _one(str(condition))
        except ValueError as error:
            refused.append((index, str(error)))
            continue
        if set(found) & set(keys):
            refused.append((index, f"{condition!r}: one such condition per endpoint"))
            continue
        keys.update(found)
    return keys, refused


def _one(condition: str) -> dict[str, Any]:
    match = _CONDITION.match(condition)
    if not match:
        raise ValueError(f"{condition!r} is not a condition prodready can read")
    left, operator, right = match.groups()
    if left == "[STATUS]" and operator == "==":
        found = re.fullmatch(r"any\((.*)\)", right)
        codes = found.group(1).split(",") if found else [right]
        return {"expect_status": [int(code) for code in codes]}
    if left == "[RESPONSE_TIME]" and operator in ("<", "<="):
        return {"max_latency": f"{int(right)}ms"}
    if left == "[BODY]" and operator == "==":
        found = re.fullmatch(r"pat\((.*)\)", right)
        if found:
            return {"body_regex": r"\A" + fnmatch.translate(found.group(1))}
        return {"body_regex": r"\A" + re.escape(right) + r"\Z"}
    if left.startswith("[BODY]") and operator == "==":
        return {"json_path": "$" + left.removeprefix("[BODY]"), "json_equals": _value(right)}
    if left == "[CERTIFICATE_EXPIRATION]" and operator in (">", ">="):
        return {"min_cert_days": parse_duration(right) / 86400}
    if left == "[CONNECTED]" and operator == "==" and right == "true":
        return {}
    raise ValueError(f"{condition!r} has no prodready equivalent")


def _value(text: str) -> Any:
    if text in ("true", "false"):
        return text == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text.strip("\"'")
