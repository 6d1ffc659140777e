"""check is linear in files and in compose services (issue 12 item 14): the findings on a big
compose file and on many nginx files are right, and the work per service or file does not grow
with their number. Counted, never timed; benchmarks/check_scaling.py measures the time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from prodready.project.parsers.compose import ComposeService
from prodready.project.parsers.nginx import NginxConf
from tests.check.helpers import findings_for

SERVICE = """\
  s{n}:
    image: app:{n}
    command: gunicorn -b 0.0.0.0:8000 app:app
    healthcheck:
      test: ["CMD", "python", "-c", "import urllib.request"]
    environment:
      WEB_CONCURRENCY: "2"
"""


def chain(services: int, waiter: int | None = None) -> str:
    """Services s0..s(n-1), each depending on the one before without a condition; `waiter`
    waits for its dependency itself in its command."""
    parts = ["services:\n"]
    for index in range(services):
        text = SERVICE.format(n=index)
        if index == waiter:
            text = text.replace("command: gunicorn", "command: wait-for-it s0:8000 -- gunicorn")
        parts.append(text)
        if index:
            parts.append(f"    depends_on: [s{index - 1}]\n")
    return "".join(parts)


def test_a_long_depends_on_chain_is_judged_service_by_service(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(chain(300, waiter=7))
    found = findings_for(tmp_path, "PR308")
    reported = {f.message.split()[1] for f in found}
    expected = {f"s{index}" for index in range(1, 300)} - {"s7"}
    assert reported == expected
    s5 = next(f for f in found if f.message.startswith("service s5 "))
    assert "depends on s4 without condition" in s5.message


def test_another_services_wait_does_not_silence_a_service(tmp_path: Path) -> None:
    """The compose file's whole text was searched for a wait per service (quadratic, and one
    service's wait-for-it silenced them all)."""
    (tmp_path / "compose.yaml").write_text(chain(3, waiter=2))
    assert [f.message.split()[1] for f in findings_for(tmp_path, "PR308")] == ["s1"]


def test_a_job_waited_for_to_complete_is_one_shot(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        chain(50)
        + "  prepare:\n    image: app:1\n    command: cp -r /static /out\n"
        + "  last:\n    image: app:1\n    depends_on:\n      prepare:\n"
        + "        condition: service_completed_successfully\n"
    )
    from prodready.project import detect

    project = detect(tmp_path)
    fact = project.services_env[("compose.yaml", "prepare")]
    assert fact.env.value == "one-shot"
    assert "last waits for it to complete" in fact.reason
    assert project.services_env[("compose.yaml", "s3")].production


def count_calls(monkeypatch: pytest.MonkeyPatch, owner: type, name: str) -> Callable[[], int]:
    """Counts calls of a method during the test."""
    original = getattr(owner, name)
    calls = [0]

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return lambda: calls[0]


@pytest.mark.parametrize("services", [40, 160])
def test_environment_of_each_service_is_read_a_bounded_number_of_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, services: int
) -> None:
    """Rules asked where each variable is set per launch, re-reading every service's
    environment each time: n services made n * n reads."""
    (tmp_path / "compose.yaml").write_text(chain(services))
    calls = count_calls(monkeypatch, ComposeService, "environment")
    findings_for(tmp_path)
    assert calls() <= 10 * services, (calls(), services)


@pytest.mark.parametrize("files", [40, 160])
def test_each_nginx_file_is_walked_a_bounded_number_of_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: int
) -> None:
    """Each nginx file's rules walked every nginx file for the TLS names and for a load
    balancer in front: n files made n * n walks."""
    for index in range(files):
        (tmp_path / f"site{index}.conf").write_text(
            f"server {{\n    listen 80;\n    server_name s{index}.example.com;\n"
            "    location / { proxy_pass http://127.0.0.1:8000; }\n}\n"
        )
    calls = count_calls(monkeypatch, NginxConf, "walk")
    found = findings_for(tmp_path, "PR412")
    assert len(found) == files, "each public plain-HTTP site is reported"
    assert calls() <= 10 * files, (calls(), files)
