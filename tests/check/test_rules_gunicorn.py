"""PR602 follows the workers expression: the host's CPU count, directly or through names,
and not when it only caps a number set another way."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.check.helpers import findings_for


@pytest.mark.parametrize(
    ("config", "reported"),
    [
        ("import os\nworkers = os.cpu_count() * 2 + 1\n", True),
        ("import os\ncores = os.cpu_count()\nworkers = cores * 2\n", True),
        ("import os\nworkers = int(os.environ.get('WEB_CONCURRENCY', 3))\n", False),
        (
            "import multiprocessing, os\nworkers = int(os.environ.get('WEB_CONCURRENCY', 4))\n"
            "workers = min(workers, multiprocessing.cpu_count() * 2 + 1)\n",
            False,
        ),
        ("import os\nworkers = min(8, os.cpu_count() * 2 + 1)\n", False),
        ("import os\nworkers = min(os.cpu_count() * 4, os.cpu_count() * 2 + 1)\n", True),
        ("import os\nworkers = max(2, os.cpu_count() * 2 + 1)\n", True),
    ],
)
def test_pr602_workers_from_cpu_count(tmp_path: Path, config: str, reported: bool) -> None:
    (tmp_path / "gunicorn.conf.py").write_text(config)
    assert bool(findings_for(tmp_path, "PR602")) is reported
