"""`prodready monitor` with its store in PostgreSQL, as users run it: the URL in the config, the
lock held by another monitor (same one-line error as on SQLite), `silence --store URL`, and a
bad or unreachable URL (one error line and a hint, exit 2)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import run_prodready
from tests.monitor.conftest import Target, closed_port
from tests.services import PG, scratch_database

psycopg = pytest.importorskip("psycopg")


def test_a_monitor_keeps_its_history_in_postgresql(tmp_path: Path, target: Target) -> None:
    from prodready.monitor.store import Store

    with scratch_database("mon") as (_, url):
        config = tmp_path / "monitor.toml"
        config.write_text(
            f'[monitor]\ninterval = "200ms"\nstore = "{url}"\n'
            f'[[endpoints]]\nname = "api"\nurl = "{target.url("api")}"\n'
        )
        holder = Store(url)
        holder.lock()
        refused = run_prodready("monitor", config, "--for", "1s")
        assert refused.returncode == 2
        assert refused.stderr == (
            f"error: another monitor is running on {url}\n"
            "hint: stop it first, or give this one its own --store\n"
        )
        holder.close()
        ran = run_prodready("monitor", config, "--for", "1s")
        assert ran.returncode == 0, ran.stderr
        assert f"history in {url}" in ran.stderr
        silenced = run_prodready("monitor", "silence", "api", "2h", "--store", url)
        assert silenced.returncode == 0, silenced.stderr
        store = Store(url)
        probed = store.results("api", 0)
        assert len(probed) >= 3 and all(ok for _, ok, _, _ in probed)
        ((pattern, until),) = store.silences(time.time())
        assert pattern == "api" and 7190 < until - time.time() <= 7200
        store.close()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (f"postgresql://postgres@127.0.0.1:{closed_port()}/monitor", "Connection refused"),
        (f"{PG}/no_such_monitor_db", 'database "no_such_monitor_db" does not exist'),
        ("postgresql://user:s3cret@127.0.0.1:port/monitor", 'invalid integer value "port"'),
    ],
)
def test_a_bad_postgresql_url_is_one_error_line(pg_url: str, url: str, reason: str) -> None:
    """(`pg_url`: the machine's PostgreSQL must run, for the missing-database case.)"""
    result = run_prodready("monitor", "tcp://127.0.0.1:9", "--store", url, "--for", "1s")
    assert result.returncode == 2
    error, hint = result.stderr.splitlines()
    assert (
        error.startswith("error: cannot open the monitor store postgresql://") and reason in error
    )
    assert hint.startswith("hint: check the URL")
    assert "s3cret" not in result.stderr and "Traceback" not in result.stderr
