"""Hostile files for `prodready check`: deep nesting, alias bombs, huge and binary files,
unreadable files, FIFOs and symlink loops. Each becomes a PR001 finding on that file and the
scan goes on to the good files; never a traceback, a hang or an exhausted machine
(issue 12, items 5, 6 and the permanent fault suite)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.faults.conftest import check_json, problems

UTCNOW = "from datetime import datetime\n\nSTAMP = datetime.utcnow().timestamp()\n"
DEPTH = 5000

DEEP_PYTHON = {
    "plus": "x = " + "+".join(["1"] * DEPTH) + "\n",
    "attribute": "x = a" + ".b" * DEPTH + "\n",
    "unary-minus": "x = " + "-" * DEPTH + "1\n",
    "lambda": "x = " + "lambda: " * DEPTH + "1\n",
    "calls": "x = f" + "()" * DEPTH + "\n",
    # parsed by Python, but deeper than a recursive AST walk can go
    "plus-600": "x = " + "+".join(["1"] * 600) + "\n",
    "attribute-600": "x = a" + ".b" * 600 + "\n",
}


def assert_scan_went_on(data: dict) -> None:
    rules_on_good = {f["rule"] for f in data["findings"] if f["path"] == "good.py"}
    assert "PR101" in rules_on_good, "the scan must go on to the readable files"


@pytest.mark.parametrize("shape", DEEP_PYTHON)
def test_deeply_nested_python_is_a_finding(tmp_path: Path, shape: str) -> None:
    (tmp_path / "deep.py").write_text(DEEP_PYTHON[shape])
    (tmp_path / "gunicorn.conf.py").write_text("workers = " + DEEP_PYTHON[shape][4:])
    (tmp_path / "good.py").write_text(UTCNOW)
    data = check_json(tmp_path)
    found = problems(data)
    assert "nested too deeply" in found["deep.py"]
    assert "nested too deeply" in found["gunicorn.conf.py"]
    assert_scan_went_on(data)


def test_deeply_nested_python_in_the_parallel_workers(tmp_path: Path) -> None:
    """Beyond 48 modules the scan runs in a process pool: a deep file must not kill a worker."""
    for index in range(60):
        (tmp_path / f"m{index}.py").write_text(f"X{index} = {index}\n")
    (tmp_path / "deep.py").write_text(DEEP_PYTHON["lambda"])
    (tmp_path / "good.py").write_text(UTCNOW)
    data = check_json(tmp_path)
    assert "nested too deeply" in problems(data)["deep.py"]
    assert_scan_went_on(data)


def _nested(open_: str, close: str, depth: int = 20_000) -> str:
    return open_ * depth + close * depth


DEEP_FILES = {
    "pyproject.toml": "a = " + _nested("[", "]") + "\n",
    "Pipfile": "[packages]\na = " + _nested("{b=", "}").replace("}", "1}", 1) + "\n",
    "compose.yaml": "services: " + _nested("[", "]") + "\n",
    "deploy/nginx/site.conf": "http {\n" + _nested("location / {\n", "}\n") + "}\n",
}


@pytest.mark.parametrize("name", DEEP_FILES)
def test_deeply_nested_config_files_are_findings(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(DEEP_FILES[name])
    (tmp_path / "good.py").write_text(UTCNOW)
    data = check_json(tmp_path)
    assert name in problems(data), problems(data)
    internal = [f for f in data["findings"] if "internal error" in f["message"]]
    assert internal == [], "a deep user file is not a prodready bug"
    assert_scan_went_on(data)


def _alias_bomb(levels: int) -> str:
    """The "billion laughs" in YAML: each level repeats the one before nine times."""
    lines = ["x-bomb:", '  l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels + 1):
        refs = ",".join([f"*l{level - 1}"] * 9)
        lines.append(f"  l{level}: &l{level} [{refs}]")
    top = f"*l{levels}"
    lines += ["services:", "  web:", "    image: nginx:1.27", f"    command: {top}"]
    lines += [f"    environment: {top}", f"    ports: {top}", f"    labels: {top}"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("levels", [6, 9, 12])
def test_yaml_alias_bomb_is_refused_not_expanded(tmp_path: Path, levels: int) -> None:
    """At 6 levels this took minutes, at 9 it never finished; a finding now, in seconds
    (the bound is generous: a quadratic or exponential path would take far longer)."""
    text = _alias_bomb(levels)
    assert len(text) < 2048
    (tmp_path / "compose.yaml").write_text(text)
    (tmp_path / "good.py").write_text(UTCNOW)
    data = check_json(tmp_path, timeout=60)
    assert "alias" in problems(data)["compose.yaml"]
    assert_scan_went_on(data)


def test_recursive_yaml_alias_is_refused(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n  web: &web\n    image: nginx\n    command: &c [x, *c]\n    labels: *web\n"
    )
    (tmp_path / "good.py").write_text(UTCNOW)
    data = check_json(tmp_path, timeout=60)
    assert "alias" in problems(data)["compose.yaml"]
    assert_scan_went_on(data)


def test_ordinary_anchors_and_merge_keys_still_work(tmp_path: Path) -> None:
    services = "\n".join(
        f"  web{i}:\n    <<: *defaults\n    image: app:{i}\n    ports: ['{8000 + i}:8000']"
        for i in range(200)
    )
    (tmp_path / "compose.yaml").write_text(
        "x-defaults: &defaults\n  restart: always\n  environment: &env\n    A: '1'\n"
        "    B: '2'\n  logging:\n    driver: json-file\n    options: {max-size: 10m}\n"
        f"services:\n{services}\n"
    )
    data = check_json(tmp_path, timeout=60)
    assert "compose.yaml" not in problems(data)


HOSTILE_BYTES = {
    "binary.py": b"\x00\x01\x02" * 100,
    "Dockerfile": b"\x00ELF" + bytes(range(256)) * 10,
    "compose.yaml": b"\xff\xfe" + "services:\n  a: {}\n".encode("utf-16-le"),
    ".env": b"A=\xff\xfe\n" * 10,
    "app.service": b"[Service]\nExecStart=/bin/\xff\n",
}


@pytest.mark.parametrize("name", HOSTILE_BYTES)
def test_binary_and_undecodable_files(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(HOSTILE_BYTES[name])
    (tmp_path / "good.py").write_text(UTCNOW)
    data = check_json(tmp_path)
    assert name in problems(data)
    assert_scan_went_on(data)


HUGE = {
    "huge.py": "x = 1\n" * 400_000,
    "Dockerfile": "FROM python:3.12\n" + "RUN true\n" * 300_000,
    "compose.yaml": "services:\n" + "  s: {}\n" * 300_000,
}


@pytest.mark.parametrize("name", HUGE)
def test_huge_files_are_skipped_with_a_finding(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text(HUGE[name])
    (tmp_path / "good.py").write_text(UTCNOW)
    data = check_json(tmp_path)
    assert "above" in problems(data)[name]
    assert_scan_went_on(data)


def test_one_long_dockerfile_line_is_bounded(tmp_path: Path) -> None:
    """A 1.9 MB RUN line: shlex's cost grows with the square of a word's length (hours here)."""
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\nRUN " + "x" * 1_900_000 + "\n")
    (tmp_path / "compose.yaml").write_text(
        "services:\n  web:\n    image: app\n    command: gunicorn " + "y" * 1_900_000 + "\n"
    )
    (tmp_path / "good.py").write_text(UTCNOW)
    assert_scan_went_on(check_json(tmp_path, timeout=90))


def test_unreadable_files_fifos_and_symlink_loops(tmp_path: Path) -> None:
    for name in ("settings.py", "Dockerfile", "compose.yaml"):
        (tmp_path / name).write_text("x = 1\n")
        (tmp_path / name).chmod(0)
    os.mkfifo(tmp_path / "fifo.py")  # reading it would block forever
    os.mkfifo(tmp_path / ".env")
    (tmp_path / "sub").mkdir()
    os.symlink("..", tmp_path / "sub" / "loop")
    os.symlink("b.py", tmp_path / "a.py")
    os.symlink("a.py", tmp_path / "b.py")
    os.symlink("/etc/passwd", tmp_path / "outside.py")
    (tmp_path / "requirements.txt").mkdir()
    (tmp_path / "good.py").write_text(UTCNOW)
    data = check_json(tmp_path, timeout=60, honour_permissions=True)
    found = problems(data)
    for name in ("settings.py", "Dockerfile", "compose.yaml"):
        assert "cannot read" in found[name], found
    assert "symlink" in found["a.py"]
    # a link that leaves the project is reported as a link, never read as /etc/passwd
    assert {f["rule"] for f in data["findings"] if f["path"] == "outside.py"} <= {"PR001"}
    assert "symlink" in found.get("outside.py", "symlink")
    assert_scan_went_on(data)


def test_project_lookups_are_indexed_and_follow_the_lists(tmp_path: Path) -> None:
    """Issue 12 item 14: rules looked files and launches up by scanning every list per file
    (quadratic in files). The indexes must answer as the scans did, and follow the lists."""
    from prodready.project import FileKind, detect

    for index in range(30):
        sub = tmp_path / f"s{index}"
        sub.mkdir()
        (sub / "Dockerfile").write_text(f'FROM python:3.12\nCMD ["gunicorn", "a{index}:app"]\n')
    project = detect(tmp_path)
    dockerfiles = [f for f in project.files if f.kind == FileKind.DOCKERFILE]
    assert project.files_of(FileKind.DOCKERFILE) == dockerfiles and len(dockerfiles) == 30
    for launch in project.launches:
        assert project.launches_from("dockerfile", launch.rel) == [launch]
        assert project.dockerfile_at(launch.rel).rel == launch.rel
    assert project.launches_from("dockerfile") == project.launches
    project.launches.append(project.launches[0])
    assert len(project.launches_from("dockerfile")) == 31, "the index follows the list"
