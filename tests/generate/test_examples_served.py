"""Each example served the way its generated files say: Gunicorn with the generated config
behind the generated nginx, the probe route answered through nginx with every security header.
Backing services are the local PostgreSQL and Redis (scripts/ensure-services.sh)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.generate.conftest import EXAMPLES, init_example
from tests.generate.servers import SECURITY_HEADERS, curl, response, running

pytestmark = pytest.mark.slow

SERVICES = {
    "riskapi": {},
    "flashcards": {
        "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        "REDIS_URL": "redis://127.0.0.1:6379/15",
    },
    "bookshop": {},  # SQLite without DB_HOST; migrated first, as the compose migrate service does
}

CREATES_TABLES_AT_IMPORT = {"flashcards"}


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_example_answers_its_probe_through_nginx(name, tmp_path):
    if not (EXAMPLES / name).is_dir():
        pytest.skip(f"examples/{name} is not there")
    root, result = init_example(name, tmp_path)
    ctx = result.context
    if ctx.migrations:
        program, *arguments = ctx.migrations.command
        migrate = subprocess.run(
            [sys.executable if program == "python" else program, *arguments],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert migrate.returncode == 0, migrate.stderr
    if name in CREATES_TABLES_AT_IMPORT:
        # The example's own bug (PR110): every worker runs create_all while importing, and two
        # racing on an empty database collide. One import first, as a deploy's migrate step.
        created = subprocess.run(
            [sys.executable, "-c", f"import {ctx.app.module}"],
            cwd=root, env={**os.environ, **SERVICES[name]},
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert created.returncode == 0, created.stderr
    with running(root, ctx, tmp_path / "servers", SERVICES[name]) as stack:
        status, headers, _ = response(curl(stack, "https://{host}:{port}" + ctx.probes.ready))
    assert status == 200, f"{ctx.probes.ready}: {status}"
    assert [h for h in SECURITY_HEADERS if h not in headers] == []
