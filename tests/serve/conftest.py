"""Fixtures for the serve tests: a private copy of the apps and servers stopped after each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.serve.support import Server, copy_apps
from tests.server_errors import assert_clean_server_log


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    return copy_apps(tmp_path / "apps")


@pytest.fixture
def serve(app_dir: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """serve(target, *args, env=None, ready_path="/ping") starts `prodready serve`; after the
    test its log must hold no error line the test did not declare (see server_errors.py)."""
    servers: list[Server] = []

    def start(target: str, *args: str, env: dict[str, str] | None = None, ready_path="/ping"):
        server = Server(app_dir, target, *args, env=env)
        servers.append(server)
        return server.start(ready_path)

    yield start
    for server in servers:
        server.stop()
    for server in servers:
        assert_clean_server_log(server.log(), f"prodready serve {server.argv[2]}", request)
