"""The migration plan: for every table and column, the PostgreSQL type, the cast and anything
lossy, decided before a row moves. Two modes:

- `schema`: the target has none of the tables, so prodready creates them from the SQLite
  schema (reflected with SQLAlchemy) and the data (booleans stored as 0/1, timestamps as ISO
  text or epoch numbers are recognised per column);
- `data`: the app's own migrations already created the tables (the preferred way: the app's
  types, constraints and defaults are exactly the ones it expects); rows are cast to the
  target's column types and loaded.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from typing import Any

import psycopg
import sqlalchemy
from sqlalchemy.engine import Inspector

from prodready.db.migrate import casts
from prodready.db.migrate.casts import Cast
from prodready.db.migrate.mysql_source import MysqlSource, Source
from prodready.db.migrate.profile import ColumnProfile, profile_table
from prodready.db.migrate.sql import quote
from prodready.errors import InputError

BOOL_NAME = re.compile(r"^(is|has|can|should|allow|enable)_", re.IGNORECASE)
TIME_NAME = re.compile(
    r"(_at|_on|_time|_ts|_ms|^timestamp|^created|^updated|^modified|^deleted|_date|^date)$",
    re.IGNORECASE,
)
EPOCH_S = (100_000_000, 10_000_000_000)
"""Integers in this range read as epoch seconds: 1973-03-03 to 2286-11-20."""
EPOCH_MS = (EPOCH_S[0] * 1000, EPOCH_S[1] * 1000)
NOW_DEFAULT = re.compile(
    r"^\(*\s*(current_timestamp|datetime\s*\(\s*'now'\s*\)|strftime\s*\(.*'now'.*\)"
    r"|julianday\s*\(\s*'now'\s*\))\s*\)*$",
    re.IGNORECASE,
)
LITERAL_DEFAULT = re.compile(r"^\(*\s*(-?\d+(\.\d+)?|'(?:[^']|'')*')\s*\)*$")
JSON_CHECK = re.compile(r"json_valid\s*\(\s*\"?(\w+)\"?\s*\)", re.IGNORECASE)


@dataclass
class ColumnPlan:
    name: str
    source_type: str
    target_type: str
    cast: Cast
    nullable: bool = True
    default: str | None = None
    identity: bool = False
    notes: list[str] = field(default_factory=list)
    check: str | None = None
    """A CHECK constraint of the column (the members of a MySQL ENUM)."""


@dataclass
class ForeignKey:
    name: str
    columns: list[str]
    ref_table: str
    ref_columns: list[str]
    on_delete: str | None = None


@dataclass
class TablePlan:
    name: str
    rows: int
    columns: list[ColumnPlan]
    primary_key: list[str]
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    uniques: list[tuple[str, list[str]]] = field(default_factory=list)
    indexes: list[tuple[str, list[str], bool]] = field(default_factory=list)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


@dataclass
class MigrationPlan:
    mode: str  # schema | data
    tables: list[TablePlan]
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "notes": self.notes,
            "tables": [
                {
                    "name": t.name,
                    "rows": t.rows,
                    "columns": [
                        {
                            "name": c.name,
                            "source": c.source_type,
                            "target": c.target_type,
                            "cast": c.cast.kind,
                            "identity": c.identity,
                            "default": c.default,
                            "notes": c.notes,
                        }
                        for c in t.columns
                    ],
                }
                for t in self.tables
            ],
        }


def source_inspector(conn: sqlite3.Connection) -> Inspector:
    """SQLAlchemy's inspector over our own read-only connection (no second open of the file)."""
    engine = sqlalchemy.create_engine(
        "sqlite://", creator=lambda: conn, poolclass=sqlalchemy.pool.StaticPool
    )
    return sqlalchemy.inspect(engine)


def ordered_tables(inspector: Inspector) -> list[str]:
    """Parents before children, so rows can be loaded while foreign keys are enforced."""
    names = [name for name, _ in inspector.get_sorted_table_and_fkc_names() if name]
    return [n for n in names if not n.startswith("sqlite_")]


def target_tables(conn: psycopg.Connection) -> set[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
    ).fetchall()
    return {r[0] for r in rows}


def build_plan(
    source: Source, target: psycopg.Connection, mode: str | None = None
) -> MigrationPlan:
    """`mode` None: `data` when the target already has any of the source's tables."""
    if isinstance(source, MysqlSource):
        from prodready.db.migrate.mysql_plan import build_mysql_plan  # it imports this module

        existing = set() if mode else target_tables(target) - {"prodready_migrate"}
        return build_mysql_plan(source, existing)
    inspector = source_inspector(source)
    names = ordered_tables(inspector)
    existing = target_tables(target) - {"prodready_migrate"}
    if mode is None:
        mode = "data" if existing & set(names) else "schema"
    for name in names:
        _require_rowid(source, name)
    if mode == "data":
        missing = [n for n in names if n not in existing]
        if missing:
            raise InputError(
                f"the target has the app's schema but not these tables: {', '.join(missing)}",
                "run the app's migrations to the same version as the SQLite database, or "
                "migrate into an empty database to let prodready create the schema",
            )
        plans = [_data_table(source, target, inspector, n) for n in names]
        notes = ["the target's schema (from the app's own migrations) is kept; data only"]
    else:
        plans = [_schema_table(source, inspector, n) for n in names]
        notes = ["schema created from the SQLite file (reflected with SQLAlchemy)"]
    left_out = source.execute(
        "SELECT type, name FROM sqlite_master WHERE type IN ('view', 'trigger') ORDER BY name"
    ).fetchall()
    if left_out and mode == "schema":
        shown = ", ".join(f"{kind} {name}" for kind, name in left_out)
        notes.append(f"not migrated (SQLite SQL, rewrite for PostgreSQL): {shown}")
    return MigrationPlan(mode, plans, notes)


def _require_rowid(source: sqlite3.Connection, table: str) -> None:
    """Batches are keyed by rowid; a WITHOUT ROWID table has none."""
    try:
        source.execute(f"SELECT rowid FROM {quote(table)} LIMIT 0")
    except sqlite3.OperationalError:
        raise InputError(
            f"table {table} is a WITHOUT ROWID table, which db migrate does not copy yet",
            "copy it by hand after the migration (PostgreSQL's COPY from a CSV export)",
        ) from None


# --- schema mode ----------------------------------------------------------------------------


def _schema_table(source: sqlite3.Connection, inspector: Inspector, table: str) -> TablePlan:
    reflected = inspector.get_columns(table)
    names = [c["name"] for c in reflected]
    wanted = {c["name"] for c in reflected if _depends_on_data(c["name"], _declared(c))}
    rows, profiles = profile_table(source, table, names, wanted)
    pk = inspector.get_pk_constraint(table).get("constrained_columns") or []
    json_columns = {
        m.group(1)
        for check in inspector.get_check_constraints(table)
        for m in JSON_CHECK.finditer(check.get("sqltext") or "")
    }
    columns = []
    for col in reflected:
        declared = (
            str(col["type"]) if not isinstance(col["type"], sqlalchemy.types.NullType) else ""
        )
        plan = _column(col["name"], declared, profiles[col["name"]], col["name"] in json_columns)
        plan.nullable = bool(col.get("nullable", True)) and col["name"] not in pk
        plan.identity = pk == [col["name"]] and plan.target_type in ("integer", "bigint")
        plan.default = _default(col.get("default"), plan)
        columns.append(plan)
    fks = [
        ForeignKey(
            fk.get("name") or f"{table}_{'_'.join(fk['constrained_columns'])}_fkey",
            fk["constrained_columns"],
            fk["referred_table"],
            fk["referred_columns"] or pk,
            (fk.get("options") or {}).get("ondelete"),
        )
        for fk in inspector.get_foreign_keys(table)
    ]
    uniques = _unique_constraints(source, table)
    indexes = [
        (ix["name"], [c for c in ix["column_names"] if c], bool(ix.get("unique")))
        for ix in inspector.get_indexes(table)
        if ix.get("name") and all(ix["column_names"])
    ]
    return TablePlan(table, rows, columns, pk, fks, uniques, indexes)


def _declared(column: Any) -> str:
    kind = column["type"]
    return "" if isinstance(kind, sqlalchemy.types.NullType) else str(kind)


def _depends_on_data(name: str, declared: str) -> bool:
    """Whether the column's type is decided by its values: integers that may be booleans,
    epoch timestamps or beyond int4; timestamps stored as numbers or text; untyped columns."""
    base = declared.upper().split("(")[0].strip()
    return (
        "INT" in base
        or base in ("DATETIME", "TIMESTAMP", "")
        or (base in ("TEXT", "CLOB") and TIME_NAME.search(name) is not None)
    )


def _unique_constraints(source: sqlite3.Connection, table: str) -> list[tuple[str, list[str]]]:
    """UNIQUE constraints, inline (`username varchar UNIQUE`) or table-level: SQLite keeps both
    as indexes of origin 'u', which SQLAlchemy's reflection leaves out for inline ones."""
    found = []
    for _, index, _, origin, *_ in source.execute(f"PRAGMA index_list({quote(table)})"):
        if origin != "u":
            continue
        columns = [r[2] for r in source.execute(f"PRAGMA index_info({quote(index)})")]
        found.append((f"{table}_{'_'.join(columns)}_key", columns))
    return found


def _column(name: str, declared: str, profile: ColumnProfile, json_checked: bool) -> ColumnPlan:
    upper = declared.upper()
    base = upper.split("(")[0].strip()
    size = [int(n) for n in re.findall(r"\d+", upper.split("(", 1)[1])] if "(" in upper else []

    def plan(target: str, cast: Cast, *notes: str) -> ColumnPlan:
        return ColumnPlan(name, declared or "(none)", target, cast, notes=list(notes))

    if base in ("BOOLEAN", "BOOL"):
        return plan("boolean", casts.boolean(), "declared boolean: 0/1 → false/true")
    if "INT" in base:
        if BOOL_NAME.match(name) and profile.non_null and not profile.not_zero_one:
            return plan("boolean", casts.boolean(), f"named {name}, only 0/1: boolean")
        if TIME_NAME.search(name) and (epoch := _epoch_unit(profile)):
            return _timestamp_plan(plan, epoch, profile)
        kind = "bigint" if "BIG" in base or _beyond_int4(profile) else "integer"
        if kind == "bigint" and "BIG" not in base:
            return plan("bigint", casts.integer("bigint"), "values beyond integer: bigint")
        return plan(kind, casts.integer(kind))
    if base in ("DATETIME", "TIMESTAMP"):
        epoch = _epoch_unit(profile)
        return _timestamp_plan(plan, epoch or "iso", profile)
    if base == "DATE":
        return plan("date", casts.day())
    if base == "TIME":
        return plan("time", casts.clock())
    if base in ("DECIMAL", "NUMERIC"):
        precision, scale = [*size, None, None][:2]
        if precision is None:
            return plan("numeric", casts.decimal(None, None), "no precision declared: numeric")
        return plan(f"numeric({precision},{scale or 0})", casts.decimal(precision, scale or 0))
    if base in ("REAL", "FLOAT", "DOUBLE", "DOUBLE PRECISION"):
        return plan("double precision", casts.floating())
    if base in ("JSON", "JSONB") or json_checked:
        return plan("jsonb", casts.jsonb(), "JSON text → jsonb")
    if base == "BLOB":
        return plan("bytea", casts.binary())
    if base in ("VARCHAR", "CHARACTER VARYING", "NVARCHAR", "CHAR", "NCHAR", "CHARACTER"):
        length = size[0] if size else None
        target = f"varchar({length})" if length else "text"
        return plan(target, casts.text(length))
    if (
        base in ("TEXT", "CLOB", "")
        and TIME_NAME.search(name)
        and profile.only_texts
        and _all_iso(profile.samples)
    ):
        return _timestamp_plan(plan, "iso")
    if base in ("TEXT", "CLOB"):
        return plan("text", casts.text())
    if base == "" and profile.only_integers:
        return plan("bigint", casts.integer("bigint"), "no declared type, integers: bigint")
    return plan("text", casts.text(), f"type {declared or '(none)'} kept as text")


def _timestamp_plan(plan: Any, source: str, profile: ColumnProfile | None = None) -> ColumnPlan:
    said = {
        "iso": "ISO text",
        "epoch_s": "epoch seconds",
        "epoch_ms": "epoch milliseconds",
    }[source]
    notes = [f"{said} → timestamptz (UTC)"]
    if profile is not None and source != "iso" and profile.integers < profile.non_null:
        others = profile.non_null - profile.integers
        what = "value is not an epoch number" if others == 1 else "values are not epoch numbers"
        notes.append(f"lossy: {others} {what}")
    return plan("timestamptz", casts.timestamp(source), *notes)


EPOCH_SHARE = 0.99
"""Of a column's values, the share that must be epoch integers for it to be read as
timestamps; the others (text like 'yesterday') are lossy values, named when they are met."""


def _epoch_unit(profile: ColumnProfile) -> str | None:
    mostly = profile.integers > 0 and profile.integers >= EPOCH_SHARE * profile.non_null
    if not mostly or profile.min_int is None or profile.max_int is None:
        return None
    for unit, (low, high) in (("epoch_s", EPOCH_S), ("epoch_ms", EPOCH_MS)):
        if low <= profile.min_int and profile.max_int < high:
            return unit
    return None


def _beyond_int4(profile: ColumnProfile) -> bool:
    low, high = casts.INT_RANGES["integer"]
    return (profile.min_int or 0) < low or (profile.max_int or 0) > high


def _all_iso(samples: list[str]) -> bool:
    if not samples:
        return False
    try:
        for value in samples:
            if len(value) < 10 or value[4] != "-":
                return False
            casts.parse_iso(value)
    except casts.LossyValue:
        return False
    return True


def _default(default: str | None, column: ColumnPlan) -> str | None:
    """The PostgreSQL default for a SQLite default expression; None (with a note) if it has no
    faithful translation."""
    if default is None:
        return None
    text = default.strip()
    if NOW_DEFAULT.match(text):
        if column.target_type in ("timestamptz", "date", "time"):
            pg = {"timestamptz": "now()", "date": "CURRENT_DATE", "time": "CURRENT_TIME"}
            column.notes.append(f"default {text} → {pg[column.target_type]}")
            return pg[column.target_type]
        column.notes.append(f"default {text} dropped: no equivalent for {column.target_type}")
        return None
    if LITERAL_DEFAULT.match(text):
        literal = text.strip("() ")
        if column.target_type == "boolean" and literal in ("0", "1"):
            return "true" if literal == "1" else "false"
        try:
            value = column.cast.convert(literal.strip("'").replace("''", "'"))
        except casts.LossyValue:
            column.notes.append(f"default {text} dropped: not a {column.target_type}")
            return None
        if isinstance(value, int | float) or column.cast.kind == "numeric":
            return str(value)
        return "'" + str(value).replace("'", "''") + "'"
    column.notes.append(f"default {text} dropped: no PostgreSQL equivalent")
    return None


# --- data mode: the app's own schema is in the target -------------------------------------------


def _data_table(
    source: sqlite3.Connection, target: psycopg.Connection, inspector: Inspector, table: str
) -> TablePlan:
    reflected = inspector.get_columns(table)
    target_columns = target.execute(
        "SELECT column_name, data_type, character_maximum_length, numeric_precision, "
        "numeric_scale, is_nullable = 'YES', column_default, udt_name "
        "FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = %s ORDER BY ordinal_position",
        (table,),
    ).fetchall()
    by_name = {w[0]: w for w in target_columns}
    source_names = [c["name"] for c in reflected]
    unknown = [n for n in source_names if n not in by_name]
    if unknown:
        raise InputError(
            f"table {table}: the target has no column {', '.join(unknown)}",
            "run the app's migrations to the same version as the SQLite database",
        )
    required = [
        w[0] for w in target_columns if w[0] not in source_names and not w[5] and w[6] is None
    ]
    if required:
        raise InputError(
            f"table {table}: the target requires column {', '.join(required)}, which the "
            "SQLite table does not have",
            "run the app's migrations to the same version as the SQLite database",
        )
    timestamps = {n for n in source_names if by_name[n][1].startswith("timestamp")}
    rows, profiles = profile_table(source, table, source_names, timestamps)
    columns = []
    for col in reflected:
        name, data_type, length, precision, scale, _nullable, _default, udt = by_name[col["name"]]
        declared = _declared(col)
        cast, target_type = _cast_to(data_type, udt, length, precision, scale, profiles[name])
        columns.append(ColumnPlan(name, declared or "(none)", target_type, cast))
    pk = inspector.get_pk_constraint(table).get("constrained_columns") or []
    return TablePlan(table, rows, columns, pk)


def _cast_to(
    data_type: str,
    udt: str,
    length: int | None,
    precision: int | None,
    scale: int | None,
    profile: ColumnProfile,
) -> tuple[Cast, str]:
    if data_type == "boolean":
        return casts.boolean(), data_type
    if data_type in casts.INT_RANGES:
        return casts.integer(data_type), data_type
    if data_type.startswith("timestamp"):
        aware = "with time zone" in data_type
        shown = "timestamptz" if aware else "timestamp"
        return casts.timestamp(_epoch_unit(profile) or "iso", aware), shown
    if data_type == "date":
        return casts.day(), data_type
    if data_type.startswith("time"):
        return casts.clock(), data_type
    if data_type == "numeric":
        shown = f"numeric({precision},{scale})" if precision is not None else "numeric"
        return casts.decimal(precision, scale), shown
    if data_type in ("real", "double precision"):
        return casts.floating(), data_type
    if data_type in ("json", "jsonb"):
        return casts.jsonb(), data_type
    if data_type == "bytea":
        return casts.binary(), data_type
    if data_type in ("character varying", "character"):
        shown = f"varchar({length})" if length else "varchar"
        return casts.text(length), shown
    return casts.text(), udt if data_type == "USER-DEFINED" else data_type
