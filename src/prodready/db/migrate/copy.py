"""Streaming rows into PostgreSQL with COPY, in batches keyed by SQLite's rowid (or the MySQL
source's key, see mysql_source).
Each batch and its state row commit together (see `state`); memory stays one batch."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TextIO

import psycopg
import psycopg.types
from psycopg.adapt import Dumper
from psycopg.copy import QueuedLibpqWriter
from psycopg.pq import Format

from prodready.db.migrate import state
from prodready.db.migrate.casts import JsonText, LossyValue
from prodready.db.migrate.mysql_source import MysqlSource, Source
from prodready.db.migrate.plan import TablePlan
from prodready.db.migrate.sql import column_list, quote

BATCH_ROWS = 10_000


class Reporter(Protocol):
    """Progress: `table`, `advance`, `table_done` while tables are copied one by one; `show`
    when several are copied at once (the counts come from the state table)."""

    def table(self, name: str, total: int, done: int) -> None: ...
    def advance(self, rows: int) -> None: ...
    def table_done(self) -> None: ...
    def show(self, name: str, total: int, done: int) -> None: ...


class SilentReporter:
    def table(self, name: str, total: int, done: int) -> None: ...
    def advance(self, rows: int) -> None: ...
    def table_done(self) -> None: ...
    def show(self, name: str, total: int, done: int) -> None: ...


@dataclass
class LossyRow(Exception):
    """A row whose value cannot be stored as it is; stops the run unless rows are skipped."""

    table: str
    key: str
    column: str
    value: Any
    reason: str

    def __reduce__(self) -> tuple[Any, ...]:
        """Crosses back from a worker process (see parallel.py) with its fields."""
        return (LossyRow, (self.table, self.key, self.column, self.value, self.reason))

    def __str__(self) -> str:
        return (
            f"table {self.table}, row {self.key}, column {self.column}: {self.value!r} "
            f"cannot be stored as it is ({self.reason})"
        )


class Rejects:
    """The rows skipped under `--on-error skip`, one JSON object per line."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.count = 0
        self._file: TextIO | None = None

    def add(self, problem: LossyRow) -> None:
        if self.path is None:
            raise problem
        if self._file is None:
            self._file = self.path.open("a", encoding="utf-8")
        record = {
            "table": problem.table,
            "row": problem.key,
            "column": problem.column,
            "value": problem.value
            if isinstance(problem.value, str | int | float)
            else repr(problem.value),
            "reason": problem.reason,
        }
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()
        self.count += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def row_key(table: TablePlan, rowid: int, row: tuple) -> str:
    if table.primary_key:
        names = table.column_names
        return ", ".join(f"{k}={row[names.index(k)]}" for k in table.primary_key)
    return f"rowid={rowid}"


def source_batches(
    source: Source, table: TablePlan, after: int | None = None, size: int = BATCH_ROWS
) -> Iterator[list[tuple]]:
    """Rows as (key, *columns) in key order, `size` at a time, after key `after` (None: from
    the start)."""
    if isinstance(source, MysqlSource):
        yield from source.batches(table, after, size)
        return
    after = after or 0
    query = (
        f"SELECT rowid, {column_list(table.column_names)} FROM {quote(table.name)} "
        "WHERE rowid > ? ORDER BY rowid LIMIT ?"
    )
    while True:
        rows = source.execute(query, (after, size)).fetchall()
        if not rows:
            return
        yield rows
        after = rows[-1][0]


def row_converter(table: TablePlan) -> Callable[[tuple], list[Any]]:
    """One function per table that casts a whole `(rowid, *values)` row: a generated list
    display, each value cast only when not NULL. Per row it costs about half of a loop over
    the columns, and the cast is the hot path of a migration."""
    names = {f"c{i}": c.cast.convert for i, c in enumerate(table.columns)}
    items = ", ".join(
        f"None if (v := row[{i + 1}]) is None else c{i}(v)" for i in range(len(table.columns))
    )
    code = compile(f"lambda row: [{items}]", f"<casts of {table.name}>", "eval")
    return eval(code, names)  # nosec B307: our own text, of indexes and names only


def converted_rows(
    table: TablePlan,
    rows: list[tuple],
    on_lossy: Rejects,
    convert: Callable[[tuple], list[Any]],
) -> Iterator[list[Any]]:
    """Values cast for PostgreSQL by `convert` (see row_converter); a lossy row goes to
    `on_lossy` (which raises it when rows are not skipped)."""
    for raw in rows:
        try:
            yield convert(raw)
        except LossyValue:
            on_lossy.add(_first_problem(table, raw))


def _first_problem(table: TablePlan, raw: tuple) -> LossyRow:
    """The slow path, once per lossy row: which column, which value, why."""
    rowid, values = raw[0], raw[1:]
    for column, value in zip(table.columns, values, strict=True):
        if value is None:
            continue
        try:
            column.cast.convert(value)
        except LossyValue as lossy:
            key = row_key(table, rowid, values)
            return LossyRow(table.name, key, column.name, value, lossy.reason)
    raise AssertionError("a row failed its casts once and passed them again")


BINARY_TYPES = {
    "smallint": "int2",
    "integer": "int4",
    "bigint": "int8",
    "boolean": "bool",
    "timestamptz": "timestamptz",
    "timestamp": "timestamp",
    "date": "date",
    "time": "time",
    "numeric": "numeric",
    "double precision": "float8",
    "real": "float4",
    "jsonb": "jsonb",
    "bytea": "bytea",
    "interval": "interval",
    "varchar": "varchar",
    "text": "text",
}
"""PostgreSQL types COPY can take in binary, which spares the server parsing every value as
text (timestamps and numerics most); a table with any other column type is copied as text."""


class JsonTextDumper(Dumper):
    """jsonb in binary: a version byte, then the JSON text as it is."""

    format = Format.BINARY

    def dump(self, obj: Any) -> bytes:
        return b"\x01" + obj.encode()


def binary_types(table: TablePlan) -> list[str] | None:
    names = [BINARY_TYPES.get(c.target_type.split("(")[0]) for c in table.columns]
    return None if None in names else names  # type: ignore[return-value]


def prepare_session(conn: psycopg.Connection) -> None:
    """A batch and its state row commit together, so a server crash that loses the last
    commits loses both and a rerun redoes them: no need to wait for each one's WAL flush.
    jsonb columns of a binary COPY take JsonText as it is (see casts.JsonText)."""
    conn.execute("SET synchronous_commit = off")
    conn.commit()
    info = psycopg.types.TypeInfo.fetch(conn, "jsonb")
    dumper = type("JsonbTextDumper", (JsonTextDumper,), {"oid": info.oid if info else 3802})
    conn.adapters.register_dumper(JsonText, dumper)


def copy_table(
    source: Source,
    target: psycopg.Connection,
    table: TablePlan,
    done: state.TableState,
    rejects: Rejects,
    reporter: Reporter,
    batch_rows: int = BATCH_ROWS,
) -> None:
    reporter.table(table.name, table.rows, done.rows)
    convert = row_converter(table)
    types = binary_types(table)
    binary = " (FORMAT BINARY)" if types else ""
    copy_sql = f"COPY {quote(table.name)} ({column_list(table.column_names)}) FROM STDIN{binary}"
    after = done.last_rowid if done.rows else None
    for rows in source_batches(source, table, after, batch_rows):
        with target.cursor() as cur:
            with cur.copy(copy_sql, writer=QueuedLibpqWriter(cur)) as copy:
                if types:
                    copy.set_types(types)
                for values in converted_rows(table, rows, rejects, convert):
                    copy.write_row(values)
            state.record_batch(cur, table.name, rows[-1][0], len(rows))
        target.commit()
        reporter.advance(len(rows))
    state.finish_table(target, table.name)
    reporter.table_done()
