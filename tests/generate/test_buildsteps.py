"""Build steps the app needs at run time: the generated Dockerfile runs them after copying the
code, and each command, run the way the build runs it, produces what the app needs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from prodready.generate.context import Options
from prodready.generate.run import init_project, parse_only
from tests.generate.conftest import copy_example, write_app

CATALOG = """\
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"

msgid "Hello"
msgstr "Hola"
"""


def _run_as_built(root: Path, command: str) -> None:
    program, *arguments = command.split()
    executable = sys.executable if program == "python" else Path(sys.executable).with_name(program)
    done = subprocess.run(
        [str(executable), *arguments], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_flask_babel_translations_are_compiled_in_the_image(tmp_path: Path) -> None:
    files = {
        "app.py": "from flask import Flask\n\napp = Flask(__name__)\n",
        "requirements.txt": "flask==3.1.0\nflask-babel==4.0.0\n",
        "app/translations/es/LC_MESSAGES/messages.po": CATALOG,
    }
    root = write_app(tmp_path / "blog", files)
    init_project(root, Options(), parse_only("dockerfile"))
    dockerfile = (root / "Dockerfile").read_text()
    step = "RUN pybabel compile -d app/translations"
    assert step in dockerfile
    assert dockerfile.index("COPY . .") < dockerfile.index(step) < dockerfile.index("USER ")
    _run_as_built(root, step.removeprefix("RUN "))
    assert (root / "app/translations/es/LC_MESSAGES/messages.mo").stat().st_size > 0


def test_django_static_files_are_collected_in_the_image(tmp_path: Path) -> None:
    root = copy_example("bookshop", tmp_path)
    result = init_project(root, Options(), parse_only("dockerfile"), force=True)
    assert any("collectstatic" in note for note in result.context.notes)
    dockerfile = (root / "Dockerfile").read_text()
    step = "RUN python manage.py collectstatic --noinput"
    assert step in dockerfile
    _run_as_built(root, step.removeprefix("RUN "))
    assert (root / "staticfiles" / "admin" / "css" / "base.css").is_file()


def test_an_app_without_build_steps_gets_none(tmp_path: Path) -> None:
    files = {
        "app.py": "from flask import Flask\n\napp = Flask(__name__)\n",
        "requirements.txt": "flask==3.1.0\n",
    }
    root = write_app(tmp_path / "plain", files)
    result = init_project(root, Options(), parse_only("dockerfile"))
    assert result.context.build_steps == []
    assert "\nRUN " not in (root / "Dockerfile").read_text().split("COPY . .", 1)[1]
