"""The resumable state of a migration, kept in the target itself (table `prodready_migrate`):
each batch's COPY and the state row that records it commit in one transaction, so a rerun
continues after the last committed batch and never loads a row twice."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

STATE_TABLE = "prodready_migrate"
MODE_ROW = ""


@dataclass
class TableState:
    last_rowid: int
    rows: int
    finished: bool


def exists(conn: psycopg.Connection) -> bool:
    row = conn.execute("SELECT to_regclass(%s)", (STATE_TABLE,)).fetchone()
    return row is not None and row[0] is not None


def create(conn: psycopg.Connection, mode: str, tables: list[str]) -> None:
    """In the caller's transaction (with the schema, in schema mode)."""
    conn.execute(
        f"CREATE TABLE {STATE_TABLE} (table_name text PRIMARY KEY, last_rowid bigint NOT NULL, "
        "rows bigint NOT NULL, finished boolean NOT NULL, mode text)"
    )
    with conn.cursor() as cur:
        cur.execute(f"INSERT INTO {STATE_TABLE} VALUES (%s, 0, 0, false, %s)", (MODE_ROW, mode))
        cur.executemany(
            f"INSERT INTO {STATE_TABLE} VALUES (%s, 0, 0, false, NULL)", [(t,) for t in tables]
        )


def mode(conn: psycopg.Connection) -> str:
    row = conn.execute(
        f"SELECT mode FROM {STATE_TABLE} WHERE table_name = %s", (MODE_ROW,)
    ).fetchone()
    return row[0] if row else "schema"


def load(conn: psycopg.Connection) -> dict[str, TableState]:
    rows = conn.execute(
        f"SELECT table_name, last_rowid, rows, finished FROM {STATE_TABLE} WHERE table_name <> %s",
        (MODE_ROW,),
    ).fetchall()
    return {r[0]: TableState(r[1], r[2], r[3]) for r in rows}


def record_batch(cur: psycopg.Cursor, table: str, last_rowid: int, rows: int) -> None:
    cur.execute(
        f"UPDATE {STATE_TABLE} SET last_rowid = %s, rows = rows + %s WHERE table_name = %s",
        (last_rowid, rows, table),
    )


def finish_table(conn: psycopg.Connection, table: str) -> None:
    conn.execute(f"UPDATE {STATE_TABLE} SET finished = true WHERE table_name = %s", (table,))
    conn.commit()


def drop(conn: psycopg.Connection) -> None:
    conn.execute(f"DROP TABLE IF EXISTS {STATE_TABLE}")
    conn.commit()
