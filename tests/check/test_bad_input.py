"""Bad input never crashes `prodready check`: each case becomes a PR001 finding or one clear
message, and the scan goes on to the files that can be read."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.conftest import run_prodready

GOOD_APP = "from flask import Flask\n\napp = Flask(__name__)\n"
UTCNOW = "from datetime import datetime\n\nSTAMP = datetime.utcnow().timestamp()\n"


def check_json(root: Path, *extra: str, honour_permissions: bool = False) -> tuple[dict, str]:
    result = run_prodready(
        "check", root, "--format", "json", *extra, honour_permissions=honour_permissions
    )
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout), result.stderr


def problems(data: dict) -> dict[str, str]:
    return {f["path"]: f["message"] for f in data["findings"] if f["rule"] == "PR001"}


def test_scan_goes_on_past_every_kind_of_bad_file(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("def f(:\n    pass\n")
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: app\n   ports: [80]\n")
    nginx = tmp_path / "deploy" / "nginx"
    nginx.mkdir(parents=True)
    (nginx / "site.conf").write_text(
        "server {\n  listen 80;\n  location / {\n    proxy_pass http://x;\n"
    )
    (tmp_path / "Dockerfile").write_text('FROM\nRUN ["unterminated\nCMD\n')
    (tmp_path / "latin1.py").write_bytes(
        "# caf\xe9\nfrom datetime import datetime\nX = datetime.utcnow().timestamp()\n".encode(
            "latin-1"
        )
    )
    (tmp_path / "binary.py").write_bytes(b"\x00\x01\x02" * 100)
    (tmp_path / "huge.py").write_text("x = 1\n" * 400_000)
    (tmp_path / "good.py").write_text(UTCNOW)
    data, _ = check_json(tmp_path)
    found = problems(data)
    assert "syntax error" in found["broken.py"]
    assert "malformed YAML" in found["compose.yaml"]
    assert "nginx" in found["deploy/nginx/site.conf"]
    assert "not valid UTF-8" in found["latin1.py"]
    assert "binary" in found["binary.py"]
    assert "above" in found["huge.py"]
    rules_on_good = {f["rule"] for f in data["findings"] if f["path"] == "good.py"}
    assert "PR101" in rules_on_good, "the scan must go on to readable files"
    rules_on_latin1 = {f["rule"] for f in data["findings"] if f["path"] == "latin1.py"}
    assert "PR101" in rules_on_latin1, "a file with a bad byte in a comment is still checked"


def test_symlink_loop_and_broken_link(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(GOOD_APP)
    (tmp_path / "sub").mkdir()
    os.symlink("..", tmp_path / "sub" / "loop")  # a directory link back up: never followed
    os.symlink("a", tmp_path / "b.py")
    os.symlink("b.py", tmp_path / "a.py")  # file links in a cycle
    os.symlink("missing.py", tmp_path / "dangling.py")
    data, _ = check_json(tmp_path)
    found = problems(data)
    assert "symlink" in found["a.py"] and "symlink" in found["dangling.py"]


def test_broken_links_to_files_check_never_reads_are_not_reported(tmp_path: Path) -> None:
    """From the ecosystem run: polar's `.prettierignore -> ../../.prettierignore` and
    DefectDojo's `*.tpl` links were reported as skipped files, which they would be anyway."""
    (tmp_path / "app.py").write_text(GOOD_APP)
    os.symlink("../../.prettierignore", tmp_path / ".prettierignore")
    os.symlink('{% include "mail/scan_added.tpl" %}', tmp_path / "scan_added_empty.tpl")
    os.symlink("../.venv/lib/skills/fastapi", tmp_path / "fastapi")
    os.symlink("deploy/missing.Dockerfile", tmp_path / "Dockerfile")
    data, _ = check_json(tmp_path)
    assert set(problems(data)) == {"Dockerfile"}


def test_symlinks_are_followed_or_reported_never_parsed_as_their_path(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "deploy").mkdir(parents=True)
    compose = (
        "services:\n  web:\n    image: example/shop:1\n"
        "  db:\n    image: postgres:16\n    ports: ['5432:5432']\n"
    )
    (project / "deploy" / "compose.prod.yaml").write_text(compose)
    os.symlink("deploy/compose.prod.yaml", project / "compose.yaml")  # followed: real YAML
    (project / "docker-compose.yml").write_text("deploy/compose.prod.yaml")  # core.symlinks=false
    (tmp_path / "outside.conf").write_text("server { listen 80; }\n")
    os.symlink(tmp_path / "outside.conf", project / "site.conf")
    data, _ = check_json(project)
    found = problems(data)
    assert "symlink checked out as a text file" in found["docker-compose.yml"]
    assert "outside the project" in found["site.conf"]
    published = {f["path"] for f in data["findings"] if f["rule"] == "PR303"}
    assert published == {"compose.yaml", "deploy/compose.prod.yaml"}


def test_unreadable_file(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(GOOD_APP)
    secret = tmp_path / "settings.py"
    secret.write_text(UTCNOW)
    secret.chmod(0)
    data, _ = check_json(tmp_path, honour_permissions=True)
    assert "cannot read" in problems(data)["settings.py"]


def test_empty_directory(tmp_path: Path) -> None:
    result = run_prodready("check", tmp_path)
    assert result.returncode == 0
    assert "No findings in 0 files" in result.stdout


@pytest.mark.parametrize("target", ["does-not-exist", "file.txt"])
def test_path_that_is_not_a_directory(tmp_path: Path, target: str) -> None:
    (tmp_path / "file.txt").write_text("x")
    result = run_prodready("check", tmp_path / target)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "hint: " in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_option_is_exit_2() -> None:
    result = run_prodready("check", "--format", "xml")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    result = run_prodready("check", ".", "--select", "PR9999")
    assert result.returncode == 2 and "unknown rule" in result.stderr


def test_a_crashing_rule_becomes_one_finding_and_the_check_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    from prodready.check.engine import run_check
    from prodready.check.registry import RULES, load_rules

    rules = load_rules()

    def explode(_ctx: object) -> list[object]:
        raise KeyError("boom")

    monkeypatch.setitem(RULES, "PR101", replace(rules["PR101"], func=explode))
    monkeypatch.setitem(RULES, "PR901", replace(rules["PR901"], func=explode))
    (tmp_path / "app.py").write_text(UTCNOW)
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\nCMD python app.py\n")
    findings = run_check(tmp_path).findings
    crashed = sorted(
        (f.path, f.message.split()[1]) for f in findings if "internal error" in f.message
    )
    assert crashed == [(".", "PR901"), ("app.py", "PR101")]
    assert any(f.rule_id == "PR204" for f in findings), "other rules still ran"


@pytest.mark.parametrize(("python", "severity"), [("3.99", "info"), ("3.8", "warning")])
def test_syntax_error_is_info_where_the_project_targets_a_newer_python(
    tmp_path: Path, python: str, severity: str
) -> None:
    """The project's Python may parse what the interpreter running prodready cannot (PEP 695
    `type X = ...` on 3.12, PEP 758 `except A, B:` on 3.14): the message says which Python
    parsed it, and the finding is info where the project targets a newer one."""
    (tmp_path / "app.py").write_text(GOOD_APP)
    (tmp_path / "types_.py").write_text("type Pair = tuple[int, int]\ndef broken(:\n    pass\n")
    (tmp_path / ".python-version").write_text(f"{python}\n")
    data, _ = check_json(tmp_path)
    (found,) = [f for f in data["findings"] if f["rule"] == "PR001"]
    running = f"Python {sys.version_info.major}.{sys.version_info.minor}"
    assert found["severity"] == severity and f"parsed as {running}" in found["message"]


@pytest.mark.parametrize(("python", "reported"), [("3.12", False), ("3.11", True)])
def test_pep_701_f_strings_are_not_reported_where_the_project_targets_3_12(
    tmp_path: Path, python: str, reported: bool
) -> None:
    """From the ecosystem run: `f"{d['key']}"` is valid on 3.12+ (netbox, Tandoor, DefectDojo)
    and only unparsable by the 3.11 running prodready."""
    (tmp_path / "app.py").write_text(GOOD_APP)
    (tmp_path / "views.py").write_text('d = {"a": 1}\nlabel = f"{d["a"]}"\n')
    (tmp_path / ".python-version").write_text(f"{python}\n")
    data, _ = check_json(tmp_path)
    found = [f for f in data["findings"] if f["rule"] == "PR001"]
    if sys.version_info >= (3, 12):
        assert not found  # this Python parses it: nothing to report either way
    else:
        assert bool(found) == reported


@pytest.mark.parametrize(("python", "reported"), [("3.12", False), ("3.11", True)])
def test_pep_701_replacement_fields_across_lines_are_not_reported_on_3_12(
    tmp_path: Path, python: str, reported: bool
) -> None:
    """From the ecosystem run: polar's `f"-{` with the expression on the next lines is valid on
    3.12+; 3.11 calls it an unterminated string literal, not an f-string error."""
    (tmp_path / "app.py").write_text(GOOD_APP)
    (tmp_path / "views.py").write_text(
        'def money(x):\n    return str(x)\n\n\nlabel = f"-{\n    money(\n        3\n    )\n}"\n'
    )
    (tmp_path / ".python-version").write_text(f"{python}\n")
    data, _ = check_json(tmp_path)
    found = [f for f in data["findings"] if f["rule"] == "PR001"]
    if sys.version_info >= (3, 12):
        assert not found  # this Python parses it: nothing to report either way
    else:
        assert bool(found) == reported


def test_compose_merge_tags_are_not_malformed_yaml(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(GOOD_APP)
    (tmp_path / "compose.override.yaml").write_text(
        "services:\n  nginx: !reset\n  web:\n    ports: !override\n      - '127.0.0.1:8000:8000'\n"
    )
    data, _ = check_json(tmp_path)
    assert "compose.override.yaml" not in problems(data)


NEWER_SYNTAX = """\
import requests

type Payload = dict[str, object]


class Repository[
    ModelType: object,  # PEP 695 parameters over several lines, as polar writes them
    IdType,
]:
    def fetch[T](self, url: str) -> Payload:
        try:
            return requests.get(url).json()
        except ValueError, KeyError:
            return {}
"""


def test_python_312_and_314_syntax_is_parsed_and_checked(tmp_path: Path) -> None:
    """From the ecosystem run: 87 files of polar and others (`type X = ...`, `class C[T]:`,
    `except A, B:`) were "syntax errors" under the Python running prodready, and no rule read
    them. They are rewritten to the older spelling, parsed, and checked on their own lines."""
    (tmp_path / "app.py").write_text(GOOD_APP)
    (tmp_path / "repository.py").write_text(NEWER_SYNTAX)
    (tmp_path / ".python-version").write_text("3.14\n")
    data, _ = check_json(tmp_path)
    assert "repository.py" not in problems(data)
    on_file = [(f["rule"], f["line"]) for f in data["findings"] if f["path"] == "repository.py"]
    assert on_file == [("PR113", 12)]


def test_a_jinja_template_of_python_is_not_a_syntax_error(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(GOOD_APP)
    (tmp_path / "client.py").write_text(
        "from polar.{{ version }}.client import Polar\n{% if imports %}\nimport x\n{% endif %}\n"
    )
    (tmp_path / "broken.py").write_text("def f(:\n    return '{{ not a tag'\n")
    data, _ = check_json(tmp_path)
    assert set(problems(data)) == {"broken.py"}


def test_a_template_of_a_compose_file_is_not_malformed_yaml(tmp_path: Path) -> None:
    """From the ecosystem run: a cookiecutter template's compose file (`- {{cookiecutter.port}}
    :80`) is YAML only once rendered; a compose file that is broken without tags still is."""
    (tmp_path / "app.py").write_text(GOOD_APP)
    (tmp_path / "{{cookiecutter.slug}}").mkdir()
    (tmp_path / "{{cookiecutter.slug}}" / "docker-compose.yml").write_text(
        "services:\n  web:\n    image: web\n    ports:\n      - {{cookiecutter.port}}:80\n"
    )
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: app\n   ports: [80]\n")
    data, _ = check_json(tmp_path)
    assert set(problems(data)) == {"compose.yaml"}
