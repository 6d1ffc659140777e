from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from prodready.generate.validate import find_tool
from tests.services import PG, missing
from tests.verify.variants import example_copy

FULL_RUN_TIMEOUT_S = 600
"""A full run takes one to two minutes here, several on a machine busy with other work."""


def run_verify(
    directory: Path, *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`prodready verify DIR ARGS` as a user runs it (not a terminal: no progress, no colour)."""
    return subprocess.run(
        [sys.executable, "-m", "prodready.cli.main", "verify", str(directory), *args],
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def items_of(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    """The items of a `verify --json` run that ran (exit 0 or 1), by id."""
    assert result.returncode in (0, 1), result.stderr
    return by_id(json.loads(result.stdout))


def by_id(scorecard: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in scorecard["items"]}


def require_tools(*names: str) -> None:
    for name in names:
        if not find_tool(name):
            missing(name, "not installed")


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The admin URL of the local PostgreSQL, for --database-url (the scratch database is
    made there)."""
    import psycopg

    url = f"{PG}/postgres"
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.OperationalError as error:
        missing(f"PostgreSQL at {PG}", error)
    return url


@pytest.fixture(scope="session")
def riskapi_scorecard(tmp_path_factory: pytest.TempPathFactory, pg_server: str) -> dict[str, Any]:
    """One full `verify --json` of examples/riskapi (a temporary copy) with a scratch
    PostgreSQL database, shared by the modules that look at its items."""
    require_tools("nginx", "openssl")
    app = example_copy("riskapi", tmp_path_factory.mktemp("riskapi-original"))
    result = run_verify(app, "--json", "--database-url", pg_server, timeout=FULL_RUN_TIMEOUT_S)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)
