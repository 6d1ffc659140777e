"""Bad options and bad config for `check`: one line, exit 2, no traceback, nothing left behind
(issue 12, item 7)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_prodready
from tests.faults.conftest import assert_refused


@pytest.fixture
def app(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    root.mkdir()
    (root / "app.py").write_text("x = 1\n")
    return root


@pytest.mark.parametrize("option", ["--output", "--write-baseline"])
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_output_into_a_missing_directory(app: Path, tmp_path: Path, option: str, fmt: str) -> None:
    target = tmp_path / "missing" / "out.json"
    result = run_prodready("check", app, "--format", fmt, option, target)
    assert_refused(result, option, "does not exist")
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("option", ["--output", "--write-baseline"])
def test_output_onto_a_directory_leaves_nothing_behind(
    app: Path, tmp_path: Path, option: str
) -> None:
    target = tmp_path / "reports"
    target.mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run_prodready("check", app, option, target)
    assert_refused(result, option, "is a directory")
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "no .tmp file may be left"
    assert list(target.iterdir()) == []


@pytest.mark.parametrize("option", ["--output", "--write-baseline"])
def test_output_into_a_read_only_directory(app: Path, tmp_path: Path, option: str) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    result = run_prodready("check", app, option, locked / "out", honour_permissions=True)
    assert_refused(result, "cannot write", "Permission denied")
    assert list(locked.iterdir()) == []


CONFIGS = [
    ("pyproject.toml", "tool = 1\n", "tool must be a table"),
    (".prodready.toml", 'tool = "x"\n', "tool must be a table"),
    (".prodready.toml", "[tool]\nprodready = 5\n", "prodready must be a table"),
    ("pyproject.toml", '[tool]\nprodready = "yes"\n', "prodready must be a table"),
    (".prodready.toml", '[tool]\nprodready = "yes"\n', "prodready must be a table"),
    (".prodready.toml", "a = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
    (".prodready.toml", b"ignore = ['\xff']\n", "cannot read .prodready.toml"),
]


@pytest.mark.parametrize(("name", "content", "words"), CONFIGS)
def test_config_of_the_wrong_shape(app: Path, name: str, content: str | bytes, words: str) -> None:
    path = app / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    assert_refused(run_prodready("check", app), words)


def test_unreadable_config_files(app: Path) -> None:
    (app / "pyproject.toml").mkdir()
    assert_refused(run_prodready("check", app), "cannot read pyproject.toml")
    (app / "pyproject.toml").rmdir()
    config = app / ".prodready.toml"
    config.write_text('ignore = ["PR101"]\n')
    config.chmod(0)
    result = run_prodready("check", app, honour_permissions=True)
    assert_refused(result, "cannot read .prodready.toml", "Permission denied")


def test_malformed_pyproject_stays_a_finding(app: Path) -> None:
    """pyproject.toml is also a project file: its syntax errors are findings of the scan."""
    (app / "pyproject.toml").write_text("[project\n")
    result = run_prodready("check", app)
    assert result.returncode == 1 and "PR001" in result.stdout, result.stderr


COMPOSE_WITH_FIX = 'version: "3.8"\nservices:\n  web:\n    image: nginx:1.27\n'


@pytest.mark.parametrize("lock", ["file", "directory"])
def test_fix_on_read_only_files_changes_nothing(tmp_path: Path, lock: str) -> None:
    root = tmp_path / "app"
    root.mkdir()
    compose = root / "compose.yaml"
    compose.write_text(COMPOSE_WITH_FIX)
    (root / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY app.py /app/\n")
    (compose if lock == "file" else root).chmod(0o444 if lock == "file" else 0o555)
    try:
        result = run_prodready("check", root, "--fix", honour_permissions=True)
    finally:
        root.chmod(0o755)
    assert_refused(result, "read-only", "nothing was changed")
    assert compose.read_text() == COMPOSE_WITH_FIX
    assert "ENV" not in (root / "Dockerfile").read_text(), "no file may be half-fixed"
    assert sorted(p.name for p in root.iterdir()) == ["Dockerfile", "compose.yaml"]


def test_fix_keeps_crlf_line_endings(tmp_path: Path) -> None:
    """Issue 12 item 15: --fix used to rewrite CRLF files to LF throughout."""
    compose = tmp_path / "compose.yaml"
    compose.write_bytes(COMPOSE_WITH_FIX.replace("\n", "\r\n").encode())
    dockerfile = tmp_path / "Dockerfile"
    # A CMD: an image that runs nothing is a base image, which PR209 leaves alone.
    dockerfile.write_bytes(
        b'FROM python:3.12-slim\r\nCOPY app.py /app/\r\nCMD ["gunicorn", "app:app"]\r\n'
    )
    result = run_prodready("check", tmp_path, "--fix")
    assert "fixed compose.yaml:1" in result.stderr and "fixed Dockerfile" in result.stderr
    assert compose.read_bytes() == b"services:\r\n  web:\r\n    image: nginx:1.27\r\n"
    fixed = dockerfile.read_bytes()
    assert b"ENV " in fixed and fixed.count(b"\r\n") == fixed.count(b"\n") == 4


def test_fix_keeps_lf_and_mixed_files_as_they_were(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text(COMPOSE_WITH_FIX)
    mixed = b'version: "3.8"\r\nservices:\n  web:\r\n    image: nginx:1.27\n'
    other = tmp_path / "deploy" / "compose.yaml"
    other.parent.mkdir()
    other.write_bytes(mixed)
    run_prodready("check", tmp_path, "--fix")
    assert compose.read_bytes() == b"services:\n  web:\n    image: nginx:1.27\n"
    assert b"\r\n" in other.read_bytes() and b"services:\n" in other.read_bytes()


# --- load: bad options and hostile scenario files (issue 12, item 7) -----------------------
# Refused before any connection: the URL is a closed local port nothing is sent to.

URL = "http://127.0.0.1:9/"


@pytest.mark.parametrize("rate", ["nan", "inf", "-inf", "1e400", "NaN/s", "inf/m", "0", "-5"])
def test_load_rate_that_is_not_a_finite_positive_number(rate: str) -> None:
    """--rate inf used to reach the workers and kill them with ZeroDivisionError."""
    result = run_prodready("load", URL, "--rate", rate, "-n", "1", timeout=60)
    assert_refused(result, "bad rate")


def _deep_toml(depth: int = 50_000) -> bytes:
    return ('base_url = "' + URL + '"\nx = ' + "[" * depth + "]" * depth + "\n").encode()


def _alias_bomb_yaml(levels: int = 10) -> bytes:
    lines = [f"base_url: {URL}", 'l0: &l0 ["x","x","x","x","x","x","x","x","x"]']
    lines += [f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, levels)]
    lines += ["requests:", f"  - path: /\n    headers: *l{levels - 1}"]
    return ("\n".join(lines) + "\n").encode()


SCENARIOS = {
    "latin1.toml": ('base_url = "' + URL + '"\n# caf\xe9\n').encode("latin-1"),
    "utf16.yaml": ("base_url: " + URL + "\n").encode("utf-16"),
    "binary.toml": bytes(range(256)) * 4,
    "deep.toml": _deep_toml(),
    "deep.yaml": ("base_url: " + URL + "\nx: " + "[" * 50_000 + "]" * 50_000 + "\n").encode(),
    "bomb.yaml": _alias_bomb_yaml(),
    "huge.toml": b'base_url = "' + URL.encode() + b'"\n' + b"# padding\n" * 300_000,
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_load_hostile_scenario_files(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(SCENARIOS[name])
    result = run_prodready("load", "--scenario", path, "-n", "1", timeout=60)
    assert_refused(result, "scenario")
