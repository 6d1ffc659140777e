"""systemd's Environment= quoting and the module an ExecStart= imports (PR504, PR506)."""

from __future__ import annotations

from pathlib import Path

import pytest

from prodready.check.rules.systemd import _relative_import, environment_assignments
from tests.check.helpers import findings_for


def test_environment_assignments_follow_systemd_quoting() -> None:
    value = 'A=1 "B=two words" C='
    assert environment_assignments(value) == [("A", "1"), ("B", "two words"), ("C", "")]


@pytest.mark.parametrize(
    ("command", "module"),
    [
        ("/srv/app/.venv/bin/gunicorn -w 3 app:app", "app:app"),
        ("/srv/app/.venv/bin/python -m gunicorn shop.wsgi:application", "shop.wsgi:application"),
        ("/usr/bin/python3 -m shop.worker", "shop.worker"),
        ("/srv/app/.venv/bin/uvicorn main:app --port 8000", "main:app"),
        ("/srv/app/.venv/bin/python /srv/app/run.py", None),
    ],
)
def test_relative_import(command: str, module: str | None) -> None:
    assert _relative_import(command.split()) == module


def test_user_unit_is_not_root(tmp_path: Path) -> None:
    unit = tmp_path / "deploy" / "app.service"
    unit.parent.mkdir()
    unit.write_text(
        "[Service]\nExecStart=/home/me/app/.venv/bin/gunicorn app:app\n"
        "[Install]\nWantedBy=default.target\n"
    )
    assert findings_for(tmp_path, "PR501") == []
