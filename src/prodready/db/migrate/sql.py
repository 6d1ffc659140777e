"""Identifier quoting shared by SQLite and PostgreSQL (both use double quotes)."""

from __future__ import annotations


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def column_list(names: list[str]) -> str:
    return ", ".join(quote(n) for n in names)
