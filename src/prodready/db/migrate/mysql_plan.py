"""The plan of a MariaDB/MySQL source (schema mode): each column's PostgreSQL type and cast,
from SQLAlchemy's reflection of the MySQL types and, for TINYINT(1) and BIGINT UNSIGNED, the
data (whether it holds only 0/1; whether it goes beyond bigint)."""

from __future__ import annotations

import re
from typing import Any

import pymysql
import sqlalchemy
from sqlalchemy.engine import Inspector

from prodready.db.migrate import casts
from prodready.db.migrate.casts import Cast
from prodready.db.migrate.mysql_source import MysqlSource, mq
from prodready.db.migrate.plan import ColumnPlan, ForeignKey, MigrationPlan, TablePlan
from prodready.db.migrate.sql import quote
from prodready.errors import InputError

JSON_CHECK = re.compile(r"json_valid\s*\(\s*`?(\w+)`?\s*\)", re.IGNORECASE)
NOW_DEFAULT = re.compile(r"^(current_timestamp|now)\s*(\(\s*\d*\s*\))?$", re.IGNORECASE)
ON_UPDATE = re.compile(r"\s+ON UPDATE\s+", re.IGNORECASE)
BIGINT_MAX = 2**63 - 1
INT_TYPES = {
    # (MySQL type, unsigned) → the smallest PostgreSQL integer that holds its whole range
    ("TINYINT", False): "smallint",
    ("TINYINT", True): "smallint",
    ("SMALLINT", False): "smallint",
    ("SMALLINT", True): "integer",
    ("MEDIUMINT", False): "integer",
    ("MEDIUMINT", True): "integer",
    ("INTEGER", False): "integer",
    ("INTEGER", True): "bigint",
    ("BIGINT", False): "bigint",
    ("YEAR", False): "smallint",
}
TEXT_TYPES = {"TEXT", "TINYTEXT", "MEDIUMTEXT", "LONGTEXT"}
BYTE_TYPES = {"BLOB", "TINYBLOB", "MEDIUMBLOB", "LONGBLOB", "BINARY", "VARBINARY"}


def build_mysql_plan(source: MysqlSource, existing: set[str]) -> MigrationPlan:
    """Schema mode only: the target must not have the tables yet (`existing`: the target's
    tables; empty when resuming, where prodready created them)."""
    engine = sqlalchemy.create_engine(
        source.address.sqlalchemy_url(),
        poolclass=sqlalchemy.pool.NullPool,
        connect_args={"connect_timeout": 5},
    )
    try:
        with engine.connect() as connection:  # one for the reflection, not one per question
            inspector = sqlalchemy.inspect(connection)
            names = [n for n, _ in inspector.get_sorted_table_and_fkc_names() if n]
            clash = sorted(set(names) & existing)
            if clash:
                raise InputError(
                    f"the target already has tables of the source: {', '.join(clash[:5])}",
                    "migrate from MariaDB/MySQL into an empty database: prodready creates the "
                    "schema (loading into the app's own schema is for SQLite sources only so far)",
                )
            tables = [_table(source, inspector, n) for n in names]
    finally:
        engine.dispose()
    notes = ["schema created from MariaDB/MySQL (reflected with SQLAlchemy)"]
    left_out = source.query(
        "SELECT 'view', table_name FROM information_schema.views WHERE table_schema = DATABASE() "
        "UNION ALL SELECT 'trigger', trigger_name FROM information_schema.triggers "
        "WHERE trigger_schema = DATABASE() UNION ALL SELECT lower(routine_type), routine_name "
        "FROM information_schema.routines WHERE routine_schema = DATABASE() ORDER BY 2"
    )
    if left_out:
        shown = ", ".join(f"{kind} {name}" for kind, name in left_out)
        notes.append(f"not migrated (MySQL SQL, rewrite for PostgreSQL): {shown}")
    return MigrationPlan("schema", tables, notes)


def _table(source: MysqlSource, inspector: Inspector, table: str) -> TablePlan:
    reflected = inspector.get_columns(table)
    pk = inspector.get_pk_constraint(table).get("constrained_columns") or []
    json_columns = _json_checked(source, table)
    profiled = [c["name"] for c in reflected if _depends_on_data(c["type"])]
    rows, profile = _profile(source, table, profiled)
    columns = []
    for col in reflected:
        plan = _column(col["name"], col["type"], col["name"] in json_columns, profile)
        plan.nullable = bool(col.get("nullable", True)) and col["name"] not in pk
        plan.identity = (
            pk == [col["name"]]
            and bool(col.get("autoincrement"))
            and plan.target_type in ("smallint", "integer", "bigint")
        )
        if plan.identity:
            plan.notes.append("AUTO_INCREMENT → identity, sequence set to max")
        plan.default = _default(col.get("default"), plan)
        columns.append(plan)
    foreign_keys = [
        ForeignKey(
            fk.get("name") or f"{table}_{'_'.join(fk['constrained_columns'])}_fkey",
            fk["constrained_columns"],
            fk["referred_table"],
            fk["referred_columns"],
            (fk.get("options") or {}).get("ondelete"),
        )
        for fk in inspector.get_foreign_keys(table)
    ]
    indexes = [
        (_index_name(table, ix["name"]), list(ix["column_names"]), bool(ix.get("unique")))
        for ix in inspector.get_indexes(table)
        if all(ix["column_names"]) and not ix.get("dialect_options", {}).get("mysql_prefix")
    ]
    return TablePlan(table, rows, columns, pk, foreign_keys, [], indexes)


def _json_checked(source: MysqlSource, table: str) -> set[str]:
    """MariaDB's JSON is LONGTEXT with a json_valid() CHECK (which SQLAlchemy does not
    reflect); MySQL's own JSON type is reflected as JSON."""
    try:
        clauses = source.query(
            "SELECT check_clause FROM information_schema.check_constraints "
            "WHERE constraint_schema = DATABASE() AND table_name = %s",
            (table,),
        )
    except pymysql.err.MySQLError:  # MySQL 8 has no table_name there, and a real JSON type
        return set()
    return {m.group(1) for (clause,) in clauses for m in JSON_CHECK.finditer(clause or "")}


def _index_name(table: str, name: str) -> str:
    """MySQL names indexes per table, PostgreSQL per schema: prefixed with the table."""
    return name if name.startswith(f"{table}_") else f"{table}_{name}"


def _kind(sql_type: Any) -> str:
    return type(sql_type).__name__.upper()


def _depends_on_data(sql_type: Any) -> bool:
    kind = _kind(sql_type)
    return (kind == "TINYINT" and getattr(sql_type, "display_width", None) == 1) or (
        kind == "BIGINT" and bool(getattr(sql_type, "unsigned", False))
    )


def _profile(
    source: MysqlSource, table: str, columns: list[str]
) -> tuple[int, dict[str, tuple[int, Any]]]:
    """The row count; per column, how many values are not 0/1 and the largest value."""
    parts = ["count(*)"]
    for name in columns:
        c = mq(name)
        parts += [f"coalesce(sum({c} NOT IN (0, 1)), 0)", f"max({c})"]
    row = source.query(f"SELECT {', '.join(parts)} FROM {mq(table)}")[0]
    return row[0], {name: (row[1 + 2 * i], row[2 + 2 * i]) for i, name in enumerate(columns)}


def _column(
    name: str, sql_type: Any, json_checked: bool, profile: dict[str, tuple[int, Any]]
) -> ColumnPlan:
    kind = _kind(sql_type)
    unsigned = bool(getattr(sql_type, "unsigned", False))
    declared = str(sql_type.compile(dialect=sqlalchemy.dialects.mysql.dialect())).lower()

    def plan(target: str, cast: Cast, *notes: str) -> ColumnPlan:
        return ColumnPlan(name, declared, target, cast, notes=list(notes))

    if kind == "BOOLEAN":
        return plan("boolean", casts.boolean())
    if kind == "TINYINT" and getattr(sql_type, "display_width", None) == 1:
        not_zero_one, _ = profile[name]
        if not not_zero_one:
            return plan("boolean", casts.boolean(), "TINYINT(1), only 0/1: boolean")
        return plan(
            "smallint", casts.integer("smallint"), f"TINYINT(1) with {not_zero_one} values not 0/1"
        )
    if kind == "BIGINT" and unsigned:
        _, highest = profile[name]
        if highest is not None and highest > BIGINT_MAX:
            return plan("numeric(20,0)", casts.decimal(20, 0), "BIGINT UNSIGNED beyond bigint")
        return plan(
            "bigint", casts.integer("bigint"), "BIGINT UNSIGNED: its values fit bigint (2^63-1)"
        )
    if (kind, unsigned) in INT_TYPES:
        target = INT_TYPES[(kind, unsigned)]
        return plan(target, casts.integer(target))
    if kind in ("DECIMAL", "NUMERIC"):
        precision, scale = sql_type.precision, sql_type.scale or 0
        if precision is None:
            return plan("numeric", casts.decimal(None, None))
        return plan(f"numeric({precision},{scale})", casts.decimal(precision, scale))
    if kind in ("FLOAT", "DOUBLE", "REAL"):
        return plan("double precision", casts.floating())
    if kind == "DATETIME":
        return plan("timestamp", casts.moment(aware=False), "DATETIME has no time zone: timestamp")
    if kind == "TIMESTAMP":
        return plan("timestamptz", casts.moment(aware=True), "TIMESTAMP (UTC) → timestamptz")
    if kind == "DATE":
        return plan("date", casts.calendar_day())
    if kind == "TIME":
        return plan("interval", casts.interval(), "TIME spans -838 to 838 hours: interval")
    if kind == "JSON" or json_checked:
        return plan("jsonb", casts.jsonb(), "JSON → jsonb")
    if kind == "ENUM":
        values = tuple(sql_type.enums)
        column = plan("text", casts.choice(values), "ENUM → text with a CHECK")
        column.check = f"{quote(name)} IN ({', '.join(_literal(v) for v in values)})"
        return column
    if kind in ("VARCHAR", "CHAR", "NVARCHAR", "NCHAR"):
        length = sql_type.length
        return plan(f"varchar({length})" if length else "text", casts.text(length))
    if kind in TEXT_TYPES:
        return plan("text", casts.text())
    if kind in BYTE_TYPES:
        return plan("bytea", casts.binary())
    if kind == "BIT":
        if (sql_type.length or 1) == 1:
            return plan("boolean", casts.bits("boolean"), "BIT(1) → boolean")
        return plan("bigint", casts.bits("bigint"), "BIT(n) → bigint")
    if kind == "SET":
        return plan("text", casts.text(), "SET kept as its comma-separated text")
    return plan("text", casts.text(), f"type {declared} kept as text")


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _default(default: str | None, column: ColumnPlan) -> str | None:
    """MariaDB reports literals quoted ('abc', '0') or bare (0, 1.5) and functions as
    current_timestamp(); anything else is dropped with a note."""
    if default is None or default.upper() == "NULL":
        return None
    text = default.strip()
    parts = [text] if text.startswith("'") else ON_UPDATE.split(text, maxsplit=1)
    if len(parts) == 2:
        text = parts[0]
        column.notes.append(f"ON UPDATE {parts[1]} not migrated (a trigger in PostgreSQL)")
    if NOW_DEFAULT.match(text):
        if column.target_type in ("timestamp", "timestamptz"):
            return "now()"
        column.notes.append(f"default {text} dropped: no equivalent for {column.target_type}")
        return None
    literal = text[1:-1].replace("''", "'") if text.startswith("'") else text
    if column.cast.kind == "boolean" and literal in ("0", "1"):
        return "true" if literal == "1" else "false"
    if column.target_type in ("smallint", "integer", "bigint", "double precision") or (
        column.cast.kind == "numeric"
    ):
        try:
            return str(column.cast.convert(literal))
        except casts.LossyValue:
            column.notes.append(f"default {text} dropped: not a {column.target_type}")
            return None
    if column.target_type == "text" or column.target_type.startswith("varchar"):
        return _literal(literal)
    column.notes.append(f"default {text} dropped: no faithful PostgreSQL equivalent")
    return None
