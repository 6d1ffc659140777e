"""Commands read from shell scripts: what runs, and what is only text in the script."""

from __future__ import annotations

from pathlib import Path

from prodready.project import detect
from prodready.project.model import Environment
from prodready.project.parsers.commands import logical_lines
from tests.check.helpers import findings_for

INSTALLER = """\
#!/usr/bin/env bash
PACKAGES_debian="\\
python3-dev python3-venv
uwsgi uwsgi-plugin-python3
git build-essential"

usage() {
    cat <<EOF
usage:
  $(basename "$0") install [all|uwsgi|nginx]
  uwsgi : the uWSGI app
EOF
}
shift=$((count << 2))
echo "done # really"
exec gunicorn app:app \\
    --bind 0.0.0.0:8000
"""


def test_quoted_lists_and_here_documents_run_nothing() -> None:
    lines = logical_lines(INSTALLER)
    assert [number for number, _ in lines] == [1, 2, 6, 7, 8, 13, 14, 15, 16]
    assert lines[1][1].startswith('PACKAGES_debian="') and "uwsgi" in lines[1][1]
    assert lines[4] == (8, "cat <<EOF")
    assert lines[-1] == (16, "exec gunicorn app:app --bind 0.0.0.0:8000")


def test_an_installer_listing_uwsgi_packages_does_not_run_uwsgi(tmp_path: Path) -> None:
    """From the ecosystem run: searxng's installer named uwsgi in apt lists and usage text, and
    PR914 said a start script runs uwsgi that no dependency file lists."""
    (tmp_path / "requirements.txt").write_text("flask==3.1.0\ngunicorn==23.0.0\n")
    (tmp_path / "app.py").write_text("from flask import Flask\n\napp = Flask(__name__)\n")
    (tmp_path / "start.sh").write_text(INSTALLER)
    assert findings_for(tmp_path, "PR914") == []
    (tmp_path / "start.sh").write_text(INSTALLER + "exec uwsgi --ini uwsgi.ini\n")
    assert [f.line for f in findings_for(tmp_path, "PR914")] == [18]


def test_a_command_kept_in_a_variable_and_evaluated_is_a_launch(tmp_path: Path) -> None:
    """ihatemoney's entrypoint: `cmd="exec gunicorn ..."` then `eval "$cmd"`."""
    (tmp_path / "entrypoint.sh").write_text(
        '#!/bin/sh\ncmd="exec gunicorn shop.wsgi:application \\\n     -b 0.0.0.0:$PORT"\n'
        'note="gunicorn is not run from here"\neval "$cmd"\n'
    )
    launches = [launch for launch in detect(tmp_path).launches if launch.rel == "entrypoint.sh"]
    assert [(launch.line, launch.argv[:3]) for launch in launches] == [
        (2, ("gunicorn", "shop.wsgi:application", "-b"))
    ]


def test_launches_in_a_development_branch_of_the_entrypoints_case_are_development(
    tmp_path: Path,
) -> None:
    """redash's entrypoint: `server)` runs gunicorn, `dev_server)` and `debug)` the dev server."""
    (tmp_path / "docker-entrypoint").write_text(
        '#!/bin/bash\ncase "$1" in\n  server)\n    exec gunicorn -b 0.0.0.0:5000 redash.wsgi:app\n'
        "    ;;\n  dev_server)\n    exec /app/manage.py runserver --debugger --reload\n    ;;\n"
        '  "debug") exec /app/manage.py runserver --debugger ;;\n'
        '  *)\n    exec "$@"\n    ;;\nesac\nexec gunicorn other:app\n'
    )
    (tmp_path / "manage.py").write_text("from redash.cli import manager\n")
    launches = {launch.line: launch for launch in detect(tmp_path).launches}
    assert launches[4].env.production and launches[4].context == "server"
    assert launches[7].env.env == Environment.DEVELOPMENT
    assert "dev_server)" in launches[7].env.reason
    assert launches[9].env.env == Environment.DEVELOPMENT and launches[9].context == "debug"
    assert launches[14].env.production and launches[14].context == ""
