"""What the data in each SQLite column looks like: one aggregate scan per table, plus a small
sample of text values. The plan reads types from the declaration and confirms them here."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from prodready.db.migrate.sql import quote

SAMPLE_SIZE = 200


@dataclass
class ColumnProfile:
    non_null: int = 0
    integers: int = 0
    texts: int = 0
    not_zero_one: int = 0
    min_int: int | None = None
    max_int: int | None = None
    samples: list[str] = field(default_factory=list)

    @property
    def only_integers(self) -> bool:
        return self.non_null > 0 and self.integers == self.non_null

    @property
    def only_texts(self) -> bool:
        return self.non_null > 0 and self.texts == self.non_null


def profile_table(
    conn: sqlite3.Connection, table: str, columns: list[str], wanted: set[str]
) -> tuple[int, dict[str, ColumnProfile]]:
    """The row count and a profile per column; only the `wanted` ones are scanned (the types
    of the others do not depend on their data), the rest get an empty profile."""
    scanned = [name for name in columns if name in wanted]
    parts = ["count(*)"]
    for name in scanned:
        c = quote(name)
        parts += [
            f"count({c})",
            f"sum(typeof({c}) = 'integer')",
            f"sum(typeof({c}) = 'text')",
            f"sum({c} IS NOT NULL AND {c} NOT IN (0, 1))",
            f"min(CASE WHEN typeof({c}) = 'integer' THEN {c} END)",
            f"max(CASE WHEN typeof({c}) = 'integer' THEN {c} END)",
        ]
    row = conn.execute(f"SELECT {', '.join(parts)} FROM {quote(table)}").fetchone()
    rows = row[0]
    profiles = {name: ColumnProfile() for name in columns}
    for i, name in enumerate(scanned):
        values = row[1 + i * 6 : 7 + i * 6]
        profile = ColumnProfile(*(v or 0 for v in values[:4]), values[4], values[5])
        if profile.texts:
            c = quote(name)
            profile.samples = [
                r[0]
                for r in conn.execute(
                    f"SELECT {c} FROM {quote(table)} WHERE typeof({c}) = 'text' LIMIT ?",
                    (SAMPLE_SIZE,),
                )
            ]
        profiles[name] = profile
    return rows, profiles
