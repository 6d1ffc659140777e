"""Proof that the target holds what the plan says: per table, the row count and an
order-independent hash of every row, both computed from normalised values (booleans,
timestamps in UTC, numerics, JSON with sorted keys) read back from PostgreSQL and cast from
the source; per column, the null count, min and max (and its own hash, to name the column that
differs); every sequence at least max(column); no orphaned foreign key."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import psycopg

from prodready.db.migrate.casts import LossyValue
from prodready.db.migrate.copy import row_converter, source_batches
from prodready.db.migrate.mysql_source import Source
from prodready.db.migrate.plan import MigrationPlan, TablePlan
from prodready.db.migrate.schema import sequences
from prodready.db.migrate.sql import quote

HASH_MOD = 2**128
FETCH_ROWS = 5_000


@dataclass
class ColumnStats:
    ordered: bool = True
    """False for JSON, bytea and booleans: no min/max (their hash still compares them)."""
    nulls: int = 0
    low: Any = None
    high: Any = None
    digest: int = 0

    def add(self, value: Any, normal: str) -> None:
        self.digest = (self.digest + hash(normal)) % HASH_MOD
        if value is None:
            self.nulls += 1
            return
        if not self.ordered:
            return
        if self.low is None or value < self.low:
            self.low = value
        if self.high is None or value > self.high:
            self.high = value


UNORDERED = {"json", "bytea", "boolean"}


def _stats(table: TablePlan) -> list[ColumnStats]:
    return [ColumnStats(ordered=c.cast.kind not in UNORDERED) for c in table.columns]


@dataclass
class Side:
    rows: int = 0
    digest: int = 0
    columns: list[ColumnStats] = field(default_factory=list)


@dataclass
class TableCheck:
    table: str
    source: Side
    target: Side
    rejected: int
    differences: list[str]

    @property
    def ok(self) -> bool:
        return not self.differences

    @property
    def hash_hex(self) -> str:
        return f"{self.target.digest:032x}"[:16]


@dataclass
class Verdict:
    tables: list[TableCheck]
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems and all(t.ok for t in self.tables)

    def differences(self) -> list[str]:
        return [d for t in self.tables for d in t.differences] + self.problems


def _row_digest(normals: list[str]) -> int:
    data = "\x1f".join(normals).encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, digest_size=16).digest(), "big")


def _accumulate(side: Side, table: TablePlan, values: list[Any] | tuple) -> None:
    normals = []
    for i, value in enumerate(values):
        normal = "\x00N" if value is None else table.columns[i].cast.normal(value)
        side.columns[i].add(value, normal)
        normals.append(normal)
    side.rows += 1
    side.digest = (side.digest + _row_digest(normals)) % HASH_MOD


def _source_side(source: Source, table: TablePlan) -> tuple[Side, int]:
    side = Side(columns=_stats(table))
    convert = row_converter(table)
    rejected = 0
    for rows in source_batches(source, table):
        for raw in rows:
            try:
                values = convert(raw)
            except LossyValue:
                rejected += 1
                continue
            _accumulate(side, table, values)
    return side, rejected


def _target_side(target: psycopg.Connection, table: TablePlan) -> Side:
    side = Side(columns=_stats(table))
    with target.cursor(name=f"prodready_verify_{abs(hash(table.name))}") as cur:
        cur.itersize = FETCH_ROWS
        cur.execute(f"SELECT {_read_back(table)} FROM {quote(table.name)}")
        for row in cur:
            _accumulate(side, table, row)
    target.commit()
    return side


def _read_back(table: TablePlan) -> str:
    """JSON as text (psycopg would load a JSON string scalar as a bare str)."""
    return ", ".join(
        f"{quote(c.name)}::text" if c.cast.kind == "json" else quote(c.name) for c in table.columns
    )


def check_table(source: Source, target: psycopg.Connection, table: TablePlan) -> TableCheck:
    source_side, rejected = _source_side(source, table)
    target_side = _target_side(target, table)
    differences = []
    if source_side.rows != target_side.rows:
        differences.append(
            f"{table.name}: {source_side.rows} rows in the source"
            f"{f' ({rejected} rejected rows not counted)' if rejected else ''}, "
            f"{target_side.rows} in the target"
        )
    for i, column in enumerate(table.columns):
        mine, theirs = source_side.columns[i], target_side.columns[i]
        for what, a, b in (
            ("null count", mine.nulls, theirs.nulls),
            ("min", mine.low, theirs.low),
            ("max", mine.high, theirs.high),
            ("hash", mine.digest, theirs.digest),
        ):
            if a != b:
                shown = "" if what == "hash" else f": source {a!r}, target {b!r}"
                differences.append(f"{table.name}.{column.name}: {what} differs{shown}")
                break
    if source_side.digest != target_side.digest and not differences:
        differences.append(f"{table.name}: row hash differs (values moved between rows)")
    return TableCheck(table.name, source_side, target_side, rejected, differences)


def check_sequences(target: psycopg.Connection, tables: list[str]) -> list[str]:
    problems = []
    for table, column, sequence in sequences(target, tables):
        row = target.execute(
            f"SELECT (SELECT last_value FROM {sequence}), max({quote(column)}) FROM {quote(table)}"
        ).fetchone()
        last, highest = row
        if highest is not None and last < highest:
            problems.append(
                f"{table}.{column}: sequence {sequence} at {last} < max {highest}: the next "
                "insert would collide"
            )
    target.commit()
    return problems


def check_foreign_keys(target: psycopg.Connection, tables: list[str]) -> list[str]:
    """Child rows whose non-null key has no parent row, for every FK of these tables."""
    keys = target.execute(
        "SELECT conrelid::regclass::text, conname, confrelid::regclass::text, "
        "ARRAY(SELECT attname FROM unnest(conkey) WITH ORDINALITY k(n, i) "
        "      JOIN pg_attribute ON attrelid = conrelid AND attnum = k.n ORDER BY i), "
        "ARRAY(SELECT attname FROM unnest(confkey) WITH ORDINALITY k(n, i) "
        "      JOIN pg_attribute ON attrelid = confrelid AND attnum = k.n ORDER BY i) "
        "FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)",
        ([quote(t) for t in tables] + tables,),
    ).fetchall()
    problems = []
    for child, name, parent, columns, ref_columns in keys:
        present = " AND ".join(f"c.{quote(c)} IS NOT NULL" for c in columns)
        match = " AND ".join(
            f"p.{quote(r)} = c.{quote(c)}" for c, r in zip(columns, ref_columns, strict=True)
        )
        orphans = target.execute(
            f"SELECT count(*) FROM {child} c WHERE {present} "
            f"AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE {match})"
        ).fetchone()[0]
        if orphans:
            problems.append(
                f"{child}.{', '.join(columns)}: {orphans} rows without a parent ({name})"
            )
    target.commit()
    return problems


def verify(source: Source, target: psycopg.Connection, plan: MigrationPlan) -> Verdict:
    names = [t.name for t in plan.tables]
    checks = [check_table(source, target, t) for t in plan.tables]
    problems = check_sequences(target, names) + check_foreign_keys(target, names)
    return Verdict(checks, problems)
