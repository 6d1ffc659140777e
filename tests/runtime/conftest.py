"""Fixtures for the runtime tests; helpers live in runtime_support.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from runtime_support import Server

from tests.server_errors import assert_clean_server_log


@pytest.fixture
def serve(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """serve(kind, target, env=..., extra_args=...) starts a server, stopped after the test,
    whose log must then hold no error line the test did not declare (see server_errors.py)."""
    servers: list[Server] = []

    def start(
        kind: str,
        target: str,
        env: dict[str, str] | None = None,
        extra_args: list[str] | None = None,
        ready_path: str = "/health/live",
    ) -> Server:
        log_path = tmp_path / f"server-{len(servers)}.log"
        server = Server(kind, target, log_path, env, extra_args)
        servers.append(server)
        return server.start(ready_path)

    yield start
    for server in servers:
        server.stop()
    for server in servers:
        assert_clean_server_log(server.log_text(), f"{server.kind} {server.target}", request)
