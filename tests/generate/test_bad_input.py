"""Bad input: one clear line on stderr (and a hint), exit code 2, nothing written."""

from __future__ import annotations

import os

from tests.generate.conftest import FLASK_APP, flask_app, run_cli, write_app


def assert_refused(result, first_line: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith(first_line), result.stderr
    assert lines[1].startswith("hint: ")
    assert "Traceback" not in result.stderr


def test_no_app_says_what_was_searched_and_where(tmp_path):
    root = write_app(tmp_path / "lib", {"util.py": "X = 1\n", "requirements.txt": "flask==3.1\n"})
    result = run_cli("init", str(root))
    assert_refused(result, f"error: no web app found in {root} (1 Python files searched for Flask")
    assert os.listdir(root) == sorted(os.listdir(root)) and set(os.listdir(root)) == {
        "util.py",
        "requirements.txt",
    }


def test_several_candidates_are_listed_and_app_picks_one(tmp_path):
    root = write_app(
        tmp_path / "two",
        {"api.py": FLASK_APP, "admin.py": FLASK_APP, "requirements.txt": "flask==3.1\n"},
    )
    result = run_cli("init", str(root))
    assert_refused(result, "error: 2 app candidates found: ")
    assert "admin:app (admin.py:4)" in result.stderr and "api:app (api.py:4)" in result.stderr
    assert "--app" in result.stderr
    assert set(os.listdir(root)) == {"api.py", "admin.py", "requirements.txt"}

    chosen = run_cli("init", str(root), "--app", "api:app", "--only", "gunicorn")
    assert chosen.returncode == 0, chosen.stderr
    assert 'wsgi_app = "api:app"' in (root / "gunicorn.conf.py").read_text()


def test_app_in_a_module_that_does_not_exist(tmp_path):
    result = run_cli("init", str(flask_app(tmp_path / "shop")), "--app", "nope:app")
    assert_refused(result, f"error: --app nope:app: no module nope in {tmp_path / 'shop'}")
    assert "(apps found: app:app)" in result.stderr


def test_app_detection_cannot_see_is_taken_on_the_users_word(tmp_path):
    dynamic = "import importlib\n\napplication = importlib.import_module('flask').Flask('x')\n"
    root = write_app(tmp_path / "dyn", {"web/main.py": dynamic, "requirements.txt": "flask\n"})
    result = run_cli("init", str(root), "--app", "web.main:application", "--only", "gunicorn")
    assert result.returncode == 0, result.stderr
    conf = (root / "gunicorn.conf.py").read_text()
    assert 'wsgi_app = "web.main:application"' in conf and '"gthread"' in conf


def test_unsupported_dependency_manager(tmp_path):
    root = flask_app(tmp_path / "pdm", **{"pyproject.toml": "[project]\nname='x'\n"})
    (root / "requirements.txt").unlink()
    (root / "pdm.lock").write_text("# pdm lock\n")
    result = run_cli("init", str(root))
    assert_refused(result, "error: pdm.lock found: prodready init cannot install with this")
    assert "pdm export" in result.stderr
    assert set(os.listdir(root)) == {"app.py", "pyproject.toml", "pdm.lock"}


def test_no_dependency_file(tmp_path):
    root = write_app(tmp_path / "bare", {"app.py": FLASK_APP})
    result = run_cli("init", str(root))
    assert_refused(result, f"error: no dependency file in {root} (looked for requirements")
    assert os.listdir(root) == ["app.py"]


def test_missing_directory(tmp_path):
    result = run_cli("init", str(tmp_path / "nowhere"))
    assert_refused(result, f"error: {tmp_path / 'nowhere'} does not exist")


def test_undetected_asgi_app_gets_the_asgi_worker(tmp_path):
    dynamic = "import importlib\n\napi = importlib.import_module('fastapi').FastAPI()\n"
    root = write_app(tmp_path / "dyn", {"main.py": dynamic, "requirements.txt": "fastapi\n"})
    result = run_cli("init", str(root), "--app", "main:api", "--only", "gunicorn")
    assert result.returncode == 0, result.stderr
    assert 'worker_class = "gthread"' not in (root / "gunicorn.conf.py").read_text()
